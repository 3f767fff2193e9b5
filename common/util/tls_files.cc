#include "common/util/tls_files.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/util/file_io.h"
#include "common/util/status_macros.h"

namespace epgfn {
namespace {

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct KeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using Certificate = std::unique_ptr<X509, X509Free>;

absl::StatusOr<std::string> ReadPem(const std::string& path, const char* what) {
  absl::StatusOr<std::string> pem = ReadFileToString(path, 1 << 20);
  if (!pem.ok()) {
    return absl::Status(
        pem.status().code(),
        absl::StrCat(what, " ", path, ": ", pem.status().message()));
  }
  return pem;
}

std::string Subject(X509* certificate) {
  char buffer[512];
  X509_NAME_oneline(X509_get_subject_name(certificate), buffer, sizeof(buffer));
  return buffer;
}

std::string NotAfter(X509* certificate) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
  ASN1_TIME_print(bio.get(), X509_get0_notAfter(certificate));
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, size);
}

// Every certificate in `pem`, each within its validity period.
absl::StatusOr<std::vector<Certificate>> ParseCertificates(
    const std::string& pem, const std::string& path, const char* what) {
  std::unique_ptr<BIO, BioFree> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  std::vector<Certificate> certificates;
  while (X509* certificate =
             PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    certificates.emplace_back(certificate);
  }
  ERR_clear_error();  // the end of the file reads as an error
  if (certificates.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " ", path, " holds no PEM certificate"));
  }
  for (const Certificate& certificate : certificates) {
    if (X509_cmp_current_time(X509_get0_notBefore(certificate.get())) > 0) {
      return absl::FailedPreconditionError(
          absl::StrCat(what, " ", path, ": ", Subject(certificate.get()),
                       " is not valid yet"));
    }
    if (X509_cmp_current_time(X509_get0_notAfter(certificate.get())) < 0) {
      return absl::FailedPreconditionError(
          absl::StrCat(what, " ", path, ": ", Subject(certificate.get()),
                       " expired on ", NotAfter(certificate.get())));
    }
  }
  return certificates;
}

}  // namespace

absl::StatusOr<std::string> CheckTlsFiles(const std::string& cert_path,
                                          const std::string& key_path,
                                          const std::string& ca_path) {
  if (cert_path.empty() != key_path.empty()) {
    return absl::InvalidArgumentError(
        "a certificate needs its key and a key its certificate");
  }
  std::string report;
  if (!cert_path.empty()) {
    ASSIGN_OR_RETURN(const std::string cert_pem,
                     ReadPem(cert_path, "certificate"));
    ASSIGN_OR_RETURN(std::vector<Certificate> chain,
                     ParseCertificates(cert_pem, cert_path, "certificate"));
    ASSIGN_OR_RETURN(const std::string key_pem, ReadPem(key_path, "key"));
    std::unique_ptr<BIO, BioFree> bio(
        BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())));
    std::unique_ptr<EVP_PKEY, KeyFree> key(
        PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
    ERR_clear_error();
    if (key == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "key ", key_path, " holds no (unencrypted) PEM private key"));
    }
    if (X509_check_private_key(chain[0].get(), key.get()) != 1) {
      ERR_clear_error();
      return absl::InvalidArgumentError(
          absl::StrCat("key ", key_path, " does not match the certificate ",
                       cert_path, " (", Subject(chain[0].get()), ")"));
    }
    absl::StrAppend(&report, "certificate ", cert_path, ": ",
                    Subject(chain[0].get()), ", valid until ",
                    NotAfter(chain[0].get()), ", chain of ", chain.size(),
                    "; key ", key_path, " matches\n");
  }
  if (!ca_path.empty()) {
    ASSIGN_OR_RETURN(const std::string ca_pem, ReadPem(ca_path, "CA file"));
    ASSIGN_OR_RETURN(std::vector<Certificate> cas,
                     ParseCertificates(ca_pem, ca_path, "CA file"));
    absl::StrAppend(
        &report, "CA ", ca_path, ": ", Subject(cas[0].get()), ", valid until ",
        NotAfter(cas[0].get()),
        cas.size() > 1 ? absl::StrCat(" (+", cas.size() - 1, " more)") : "",
        "\n");
  }
  return report;
}

}  // namespace epgfn
