// The `ciel` program: one binary, several subcommands.
#include <malloc.h>

#include <cstdio>
#include <cstring>
#include <string_view>

#include "cli/serve.h"

#ifndef CIEL_VERSION
#define CIEL_VERSION "0.1.0"
#endif

namespace {
void usage() {
  std::puts(
      "usage: ciel <command> [options]\n"
      "\n"
      "commands:\n"
      "  serve     run the cloud (see ciel serve --help for every setting)\n"
      "  agent     run this host's virtual machines for a scale-out cloud (ciel agent --help)\n"
      "  scrub     re-verify every blob's checksum and report corrupt ones\n"
      "  admin     offline identity administration: users, projects, roles, audit, key rotation\n"
      "  backup    copy a data directory (SQLite, local blobs, keys) while it serves or not\n"
      "  restore   make a new data directory from a backup\n"
      "  version   print the version\n");
}
}  // namespace

int main(int argc, char** argv, char** envp) {
  // Large buffers (argon2's 19 MiB per hash, 1 MiB blob chunks) always come from mmap and go back
  // to the kernel when freed. Left to itself, glibc raises this threshold after the first such
  // free and then keeps every later one resident in a per-thread arena.
  mallopt(M_MMAP_THRESHOLD, 512 * 1024);
  if (argc < 2) {
    usage();
    return 2;
  }
  std::string_view cmd = argv[1];
  if (cmd == "version" || cmd == "--version") {
    std::printf("ciel %s\n", CIEL_VERSION);
    return 0;
  }
  if (cmd == "serve") { return ciel::cli::serve_main(argc - 1, argv + 1, envp); }
  if (cmd == "agent") { return ciel::cli::agent_main(argc - 1, argv + 1, envp); }
  if (cmd == "admin") { return ciel::cli::admin_main(argc - 1, argv + 1, envp); }
  if (cmd == "backup") { return ciel::cli::backup_main(argc - 1, argv + 1, envp); }
  if (cmd == "restore") { return ciel::cli::restore_main(argc - 1, argv + 1, envp); }
  if (cmd == "scrub") { return ciel::cli::scrub_main(argc - 1, argv + 1, envp); }
  if (cmd == "help" || cmd == "--help" || cmd == "-h") {
    usage();
    return 0;
  }
  std::fprintf(stderr, "ciel: unknown command %s\n", argv[1]);
  usage();
  return 2;
}
