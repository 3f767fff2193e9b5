#include "server/testing/server_process.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace epgfn {
namespace test_support {

ServerProcess StartServerProcess(const std::vector<std::string>& flags) {
  int out[2];
  ServerProcess process;
  if (pipe(out) != 0) return process;
  process.pid = fork();
  if (process.pid == 0) {
    dup2(out[1], STDOUT_FILENO);
    close(out[0]);
    close(out[1]);
    static char binary[] = "server/epgfn_server";
    std::vector<char*> argv = {binary};
    for (const std::string& flag : flags) {
      argv.push_back(const_cast<char*>(flag.c_str()));
    }
    argv.push_back(nullptr);
    execv(binary, argv.data());
    _exit(127);
  }
  close(out[1]);
  FILE* stream = fdopen(out[0], "r");
  char line[512];
  while (process.address.empty() &&
         fgets(line, sizeof(line), stream) != nullptr) {
    std::string text(line);
    if (absl::StartsWith(text, "listening on ")) {
      process.address = text.substr(13, text.find_last_not_of("\n") - 12);
    }
  }
  fclose(stream);
  return process;
}

int StopServerProcess(const ServerProcess& process, int seconds, int signal) {
  kill(process.pid, signal);
  for (int i = 0; i < seconds * 10; ++i) {
    int status = 0;
    if (waitpid(process.pid, &status, WNOHANG) == process.pid) {
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  kill(process.pid, SIGKILL);
  waitpid(process.pid, nullptr, 0);
  return -1;
}

std::string ProcessTestConfig(const std::string& name, int num_clients,
                              int64_t iterations, int64_t batch_size,
                              const std::string& extra) {
  std::string config = absl::StrCat("name: \"", name, "\"\n", R"pb(
    environment {
      kind: "hypergrid"
      params { key: "dim" value: "2" }
      params { key: "side" value: "4" }
    }
    local_architecture { hidden_width: 32 hidden_layers: 1 }
    global_architecture { hidden_width: 32 hidden_layers: 1 }
  )pb");
  for (int i = 0; i < num_clients; ++i) {
    absl::StrAppend(&config, "client_ids: \"client-", i, "\"\n");
  }
  absl::StrAppend(&config,
                  "aggregation { loss: \"cb\" iterations: ", iterations,
                  " batch_size: ", batch_size, " }\n", extra);
  return config;
}

double ProcessCpuSeconds(pid_t pid) {
  std::ifstream stat(absl::StrCat("/proc/", pid, "/stat"));
  std::string text((std::istreambuf_iterator<char>(stat)),
                   std::istreambuf_iterator<char>());
  // The fields after the command name (which may hold spaces) start at ") ",
  // with field 3 (state); utime and stime are fields 14 and 15.
  std::istringstream fields(text.substr(text.rfind(')') + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14 || i == 15) ticks += std::stod(field);
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

}  // namespace test_support
}  // namespace epgfn
