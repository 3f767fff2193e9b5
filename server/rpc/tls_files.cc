#include "server/rpc/tls_files.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "common/util/file_io.h"
#include "common/util/status_macros.h"

namespace epgfn {
namespace {

constexpr int64_t kMaxPemBytes = 1 << 20;

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Free {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct KeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using Bio = std::unique_ptr<BIO, BioFree>;
using Certificate = std::unique_ptr<X509, X509Free>;
using PrivateKey = std::unique_ptr<EVP_PKEY, KeyFree>;

absl::StatusOr<std::string> ReadPem(const std::string& path,
                                    const std::string& what) {
  absl::StatusOr<std::string> pem = ReadFileToString(path, kMaxPemBytes);
  if (!pem.ok()) {
    return absl::Status(pem.status().code(),
                        absl::StrCat("cannot read ", what, " ", path, ": ",
                                     pem.status().message()));
  }
  return pem;
}

Bio MemoryBio(const std::string& bytes) {
  return Bio(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
}

// OpenSSL's reason for the last failure, for the message.
std::string OpenSslReason() {
  const unsigned long code = ERR_peek_last_error();
  ERR_clear_error();
  if (code == 0) return "no PEM block found";
  const char* reason = ERR_reason_error_string(code);
  return reason != nullptr ? reason : "unknown OpenSSL error";
}

absl::StatusOr<Certificate> FirstCertificate(const std::string& pem,
                                             const std::string& what,
                                             const std::string& path) {
  ERR_clear_error();
  Bio bio = MemoryBio(pem);
  Certificate cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (cert == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, " ", path, " is not a PEM certificate (", OpenSslReason(), ")"));
  }
  return cert;
}

}  // namespace

absl::StatusOr<ServerTlsFiles> LoadServerTlsFiles(
    const std::string& cert_path, const std::string& key_path,
    const std::string& client_ca_path) {
  ServerTlsFiles files;
  ASSIGN_OR_RETURN(files.cert_chain, ReadPem(cert_path, "TLS certificate"));
  ASSIGN_OR_RETURN(files.private_key, ReadPem(key_path, "TLS key"));
  ASSIGN_OR_RETURN(
      Certificate cert,
      FirstCertificate(files.cert_chain, "the TLS certificate", cert_path));
  ERR_clear_error();
  Bio key_bio = MemoryBio(files.private_key);
  // No passphrase: OpenSSL's default callback would prompt on a terminal.
  pem_password_cb* no_passphrase = [](char*, int, int, void*) { return 0; };
  PrivateKey key(
      PEM_read_bio_PrivateKey(key_bio.get(), nullptr, no_passphrase, nullptr));
  if (key == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("the TLS key ", key_path, " is not a PEM private key (",
                     OpenSslReason(), "; an encrypted key is not supported)"));
  }
  ERR_clear_error();
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(absl::StrCat(
        "the TLS key ", key_path, " does not belong to the certificate ",
        cert_path, " (their public keys differ)"));
  }
  if (!client_ca_path.empty()) {
    ASSIGN_OR_RETURN(files.client_ca, ReadPem(client_ca_path, "client CA"));
    RETURN_IF_ERROR(
        FirstCertificate(files.client_ca, "the client CA", client_ca_path)
            .status());
  }
  return files;
}

}  // namespace epgfn
