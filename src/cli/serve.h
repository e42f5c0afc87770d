// cli/serve.h: `ciel serve` and the other subcommands' entry points.
#pragma once

namespace ciel::cli {

int serve_main(int argc, char** argv, char** envp);
int scrub_main(int argc, char** argv, char** envp);
int admin_main(int argc, char** argv, char** envp);
int agent_main(int argc, char** argv, char** envp);

}  // namespace ciel::cli
