#ifndef EPGFN_SERVER_TESTING_SERVER_PROCESS_H_
#define EPGFN_SERVER_TESTING_SERVER_PROCESS_H_

#include <signal.h>
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace epgfn {
namespace test_support {

// A running epgfn_server process and the address it announced.
struct ServerProcess {
  pid_t pid = -1;
  std::string address;  // empty when it did not announce one
};

// Starts server/epgfn_server (a data dependency of the test) with `flags`
// and waits for its "listening on" line.
ServerProcess StartServerProcess(const std::vector<std::string>& flags);

// `signal`, then the exit status (-1 when it had to be SIGKILLed after
// `seconds`).
int StopServerProcess(const ServerProcess& process, int seconds = 20,
                      int signal = SIGTERM);

// The federation config (a FederationSpec textproto) of the process tests:
// `name`, hypergrid dim 2 side 4, one-layer width-32 networks, clients
// client-0..client-<num_clients - 1>, a cb aggregation of `iterations` x
// `batch_size`, then `extra` (e.g. aggregate blocks).
std::string ProcessTestConfig(const std::string& name, int num_clients,
                              int64_t iterations, int64_t batch_size,
                              const std::string& extra = "");

// User + system CPU seconds the process has used so far (/proc/<pid>/stat).
double ProcessCpuSeconds(pid_t pid);

}  // namespace test_support
}  // namespace epgfn

#endif  // EPGFN_SERVER_TESTING_SERVER_PROCESS_H_
