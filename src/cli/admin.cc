// `ciel admin`: offline identity administration for scripts. Creates users, projects and role
// assignments, reads the audit log, rotates keys. A running `ciel serve` on the same store picks
// the changes up within identity.refresh_interval.
// Created ids go to stdout, one per line; errors to stderr with exit status 1 (2 for bad usage).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "cli/serve.h"
#include "cli/settings.h"
#include "core/blocking.h"
#include "core/time.h"
#include "identity/identity.h"
#include "identity/settings.h"
#include "store/meta_store.h"

namespace ciel::cli {
namespace {

int fail(const Error& e) {
  std::fprintf(stderr, "ciel: %s%s\n", e.message.c_str(), e.detail.empty() ? "" : (" (" + e.detail + ")").c_str());
  return 1;
}

Result<std::string> resolve_domain(identity::IdentityService& id, const identity::Caller& c, const std::string& ref) {
  if (auto d = id.get_domain(c, ref)) { return d->id; }
  auto list = id.list_domains(c, ref);
  if (!list) { return list.error(); }
  if (list->size() != 1) { return make_error(Errc::not_found, "no domain with id or name " + ref); }
  return list->front().id;
}

Result<std::string> resolve_project(identity::IdentityService& id, const identity::Caller& c, const std::string& ref,
                                    const std::string& domain) {
  if (auto p = id.get_project(c, ref)) { return p->id; }
  auto list = id.list_projects(c, ref, domain, "");
  if (!list) { return list.error(); }
  if (list->size() != 1) { return make_error(Errc::not_found, "no project with id or name " + ref + " in domain " + domain); }
  return list->front().id;
}

Result<std::string> resolve_user(identity::IdentityService& id, const identity::Caller& c, const std::string& ref, const std::string& domain) {
  if (auto u = id.get_user(c, ref)) { return u->id; }
  auto list = id.list_users(c, ref, domain);
  if (!list) { return list.error(); }
  if (list->size() != 1) { return make_error(Errc::not_found, "no user with id or name " + ref + " in domain " + domain); }
  return list->front().id;
}

Result<std::string> resolve_role(identity::IdentityService& id, const identity::Caller& c, const std::string& ref) {
  if (auto r = id.get_role(c, ref)) { return r->id; }
  auto list = id.list_roles(c, ref);
  if (!list) { return list.error(); }
  if (list->size() != 1) { return make_error(Errc::not_found, "no role with id or name " + ref); }
  return list->front().id;
}

std::string json_str(const std::string& s) {
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\') { out += '\\'; }
    if (static_cast<unsigned char>(ch) < 0x20) { continue; }
    out += ch;
  }
  return out + "\"";
}

}  // namespace

int admin_main(int argc, char** argv, char** envp) {
  config::Settings settings;
  declare_core_settings(settings);
  identity::declare_settings(settings);
  CLI::App app{"ciel admin: offline identity administration (a running server picks changes up within identity.refresh_interval)"};
  app.require_subcommand(1);
  LoadOptions load;
  std::string data_dir;
  app.add_option("--data-dir", data_dir, "Data directory (setting data_dir)");
  app.add_option("--config", load.config_file, "TOML config file");
  app.add_option("--set", load.assignments, "Set any setting: --set key=value");

  std::string name, password, domain = "default", project, email, description, user, user_domain = "default", role, action;
  bool password_stdin = false, disabled = false, as_json = false;
  std::int64_t after = 0;
  std::size_t limit = 100;

  auto* user_cmd = app.add_subcommand("user", "Users")->require_subcommand(1);
  auto* user_create = user_cmd->add_subcommand("create", "Create a user; prints its id");
  user_create->add_option("name", name, "User name")->required();
  user_create->add_option("--password", password, "Password");
  user_create->add_flag("--password-stdin", password_stdin, "Read the password from the first line of stdin");
  user_create->add_option("--domain", domain, "Domain id or name (default: default)");
  user_create->add_option("--project", project, "Default project id or name");
  user_create->add_option("--email", email, "E-mail address");
  user_create->add_flag("--disabled", disabled, "Create the user disabled");

  auto* project_cmd = app.add_subcommand("project", "Projects")->require_subcommand(1);
  auto* project_create = project_cmd->add_subcommand("create", "Create a project; prints its id");
  project_create->add_option("name", name, "Project name")->required();
  project_create->add_option("--domain", domain, "Domain id or name (default: default)");
  project_create->add_option("--description", description, "Description");

  auto* role_cmd = app.add_subcommand("role", "Role assignments")->require_subcommand(1);
  auto* role_add = role_cmd->add_subcommand("add", "Grant ROLE to --user on --project (or --domain)");
  role_add->add_option("role", role, "Role id or name")->required();
  role_add->add_option("--user", user, "User id or name")->required();
  role_add->add_option("--user-domain", user_domain, "Domain of the user (default: default)");
  auto* role_project = role_add->add_option("--project", project, "Project id or name (in --domain)");
  auto* role_domain = role_add->add_option("--domain", domain, "Domain id or name; alone, the assignment is on the domain");

  auto* audit_cmd = app.add_subcommand("audit", "Print the identity audit log, oldest first");
  audit_cmd->add_option("--after", after, "Only records after this sequence number");
  audit_cmd->add_option("--limit", limit, "At most this many records (default 100, max 1000)");
  audit_cmd->add_option("--action", action, "Only actions starting with this prefix (e.g. auth., project.)");
  audit_cmd->add_flag("--json", as_json, "One JSON object per line");

  auto* rotate_cmd = app.add_subcommand("rotate-keys", "Add a new primary token key now and prune expired ones");
  app.fallthrough();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (!data_dir.empty()) { load.assignments.insert(load.assignments.begin(), "data_dir=" + data_dir); }
  load_or_exit(settings, load, envp);
  std::string dir = settings.get_string("data_dir");
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  dir = std::filesystem::weakly_canonical(dir).string();

  start_blocking_pool(2);
  std::string meta_url = settings.get_string("store.metadata");
  if (meta_url.empty()) { meta_url = "sqlite:" + dir + "/meta.db"; }
  auto meta = store::open_meta_store(meta_url);
  if (!meta) { return fail(meta.error()); }
  auto migrations = identity::migrations();
  if (auto st = store::migrate(**meta, migrations); !st) { return fail(st.error()); }
  auto cfg = identity::config_from(settings, dir);
  if (!cfg) {
    std::fprintf(stderr, "ciel: %s\n", cfg.error().message.c_str());
    return 2;
  }
  auto svc = identity::open_identity_service(**meta, *cfg);
  if (!svc) { return fail(svc.error()); }
  auto& id = **svc;
  auto boot = id.bootstrap();
  if (!boot) { return fail(boot.error()); }
  if (boot->created) {
    std::string url = settings.get_string("server.public_url");
    if (url.empty()) { url = "http://" + settings.get_string("server.listen"); }
    (void)identity::write_openrc(dir + "/openrc", url + "/v3", boot->admin_password, id.config());
    std::fprintf(stderr, "ciel: new identity store; admin credentials in %s/openrc\n", dir.c_str());
  }
  identity::Caller op = id.operator_caller();
  op.request_id = "ciel-admin";

  if (*user_create) {
    if (password_stdin) { std::getline(std::cin, password); }
    auto dom = resolve_domain(id, op, domain);
    if (!dom) { return fail(dom.error()); }
    identity::UserInput in;
    in.name = name;
    in.domain_id = *dom;
    if (!password.empty()) { in.password = password; }
    if (!email.empty()) { in.email = email; }
    if (disabled) { in.enabled = false; }
    if (!project.empty()) {
      auto pid = resolve_project(id, op, project, *dom);
      if (!pid) { return fail(pid.error()); }
      in.default_project_id = *pid;
    }
    auto u = id.create_user(op, in);
    if (!u) { return fail(u.error()); }
    std::printf("%s\n", u->id.c_str());
  } else if (*project_create) {
    auto dom = resolve_domain(id, op, domain);
    if (!dom) { return fail(dom.error()); }
    identity::ProjectInput in;
    in.name = name;
    in.domain_id = *dom;
    in.description = description;
    auto p = id.create_project(op, in);
    if (!p) { return fail(p.error()); }
    std::printf("%s\n", p->id.c_str());
  } else if (*role_add) {
    auto rid = resolve_role(id, op, role);
    if (!rid) { return fail(rid.error()); }
    auto udom = resolve_domain(id, op, user_domain);
    if (!udom) { return fail(udom.error()); }
    auto uid = resolve_user(id, op, user, *udom);
    if (!uid) { return fail(uid.error()); }
    auto dom = resolve_domain(id, op, domain);
    if (!dom) { return fail(dom.error()); }
    identity::Assignment a;
    a.actor_type = identity::ActorType::user;
    a.actor_id = *uid;
    a.role_id = *rid;
    if (role_project->count() > 0) {
      auto pid = resolve_project(id, op, project, *dom);
      if (!pid) { return fail(pid.error()); }
      a.target_type = identity::TargetType::project;
      a.target_id = *pid;
    } else if (role_domain->count() > 0) {
      a.target_type = identity::TargetType::domain;
      a.target_id = *dom;
    } else {
      std::fprintf(stderr, "ciel: role add needs --project or --domain\n");
      return 2;
    }
    if (auto st = id.grant(op, a); !st) { return fail(st.error()); }
  } else if (*audit_cmd) {
    identity::AuditQuery q;
    q.after_seq = after;
    q.limit = limit;
    q.action_prefix = action;
    auto records = id.read_audit(op, q);
    if (!records) { return fail(records.error()); }
    for (const auto& r : *records) {
      std::string time = iso8601(SystemTime(std::chrono::milliseconds(r.at_ms)), 3);
      if (as_json) {
        std::printf("{\"seq\": %lld, \"time\": %s, \"principal\": %s, \"action\": %s, \"target\": %s, \"outcome\": %s, \"source\": %s, "
                    "\"request_id\": %s, \"detail\": %s}\n",
                    static_cast<long long>(r.seq), json_str(time).c_str(), json_str(r.principal).c_str(), json_str(r.action).c_str(),
                    json_str(r.target).c_str(), json_str(r.outcome).c_str(), json_str(r.source).c_str(), json_str(r.request_id).c_str(),
                    json_str(r.detail).c_str());
      } else {
        std::printf("%lld %s %-8s %-28s principal=%s target=%s source=%s request=%s %s\n", static_cast<long long>(r.seq), time.c_str(),
                    r.outcome.c_str(), r.action.c_str(), r.principal.c_str(), r.target.c_str(), r.source.c_str(), r.request_id.c_str(),
                    r.detail.c_str());
      }
    }
  } else if (*rotate_cmd) {
    auto r = id.maybe_rotate_keys(true);
    if (!r) { return fail(r.error()); }
    std::printf("rotated\n");
  }
  id.flush_audit();
  svc->reset();
  stop_blocking_pool();
  return 0;
}

}  // namespace ciel::cli
