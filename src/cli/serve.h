// cli/serve.h: `ciel serve` and the other subcommands' entry points.
#pragma once
#include <vector>

namespace ciel::store {
struct Migration;
}
namespace ciel::config {
class Settings;
}

namespace ciel::cli {

int serve_main(int argc, char** argv, char** envp);
// Every module's schema migrations, in the order ciel serve applies them; ciel restore checks a
// backup's schema against them.
std::vector<store::Migration> all_migrations();
// Every setting ciel serve knows (the other subcommands read the same configuration).
void declare_all_settings(config::Settings& settings);
int scrub_main(int argc, char** argv, char** envp);
int admin_main(int argc, char** argv, char** envp);
int backup_main(int argc, char** argv, char** envp);
int restore_main(int argc, char** argv, char** envp);
int agent_main(int argc, char** argv, char** envp);

}  // namespace ciel::cli
