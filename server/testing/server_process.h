#ifndef EPGFN_SERVER_TESTING_SERVER_PROCESS_H_
#define EPGFN_SERVER_TESTING_SERVER_PROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

namespace epgfn {
namespace testing {

// A running epgfn_server process and the address it announced.
struct ServerProcess {
  pid_t pid = -1;
  std::string address;  // empty when it did not announce one
};

// Starts server/epgfn_server (a data dependency of the test) with `flags`
// and waits for its "listening on" line.
ServerProcess StartServerProcess(const std::vector<std::string>& flags);

// SIGTERM, then the exit status (-1 when it had to be SIGKILLed after
// `seconds`).
int StopServerProcess(const ServerProcess& process, int seconds = 20);

// User + system CPU seconds the process has used so far (/proc/<pid>/stat).
double ProcessCpuSeconds(pid_t pid);

}  // namespace testing
}  // namespace epgfn

#endif  // EPGFN_SERVER_TESTING_SERVER_PROCESS_H_
