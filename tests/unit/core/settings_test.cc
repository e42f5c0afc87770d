#include "core/config/settings.h"

#include <gtest/gtest.h>

#include <fstream>

#include "support/test_support.h"

namespace ciel::config {
namespace {

Settings make_settings() {
  Settings s;
  s.declare({"server.listen", Kind::string, "127.0.0.1:8080", "listener"});
  s.declare({"server.threads", Kind::integer, "0", "threads"});
  s.declare({"server.diagnostics", Kind::boolean, "false", "diag"});
  s.declare({"server.header_timeout", Kind::duration, "10s", "head"});
  s.declare({"server.max_header_bytes", Kind::bytes, "64KiB", "max head"});
  s.declare({"log.level", Kind::string, "info", "level"});
  return s;
}

TEST(Settings, DefaultsOfEveryKind) {
  Settings s = make_settings();
  EXPECT_EQ(s.get_string("server.listen"), "127.0.0.1:8080");
  EXPECT_EQ(s.get_int("server.threads"), 0);
  EXPECT_FALSE(s.get_bool("server.diagnostics"));
  EXPECT_EQ(s.get_duration("server.header_timeout"), std::chrono::seconds(10));
  EXPECT_EQ(s.get_bytes("server.max_header_bytes"), 64u * 1024);
  EXPECT_TRUE(s.has("log.level"));
  EXPECT_FALSE(s.has("log.nope"));
}

TEST(Settings, DeclaringTwiceKeepsTheFirst) {
  Settings s = make_settings();
  s.declare({"log.level", Kind::string, "debug", "again"});
  EXPECT_EQ(s.get_string("log.level"), "info");
  EXPECT_EQ(s.specs().size(), 6u);
}

TEST(Settings, SetChecksKind) {
  Settings s = make_settings();
  EXPECT_TRUE(s.set("server.threads", "4", "test"));
  EXPECT_EQ(s.get_int("server.threads"), 4);
  EXPECT_TRUE(s.set("server.diagnostics", "yes", "test"));
  EXPECT_TRUE(s.get_bool("server.diagnostics"));
  EXPECT_TRUE(s.set("server.header_timeout", "250ms", "test"));
  EXPECT_EQ(s.get_duration("server.header_timeout"), std::chrono::milliseconds(250));
  EXPECT_TRUE(s.set("server.max_header_bytes", "1MiB", "test"));
  EXPECT_EQ(s.get_bytes("server.max_header_bytes"), 1024u * 1024);

  for (auto [key, value] : {std::pair{"server.threads", "four"}, {"server.threads", "4.5"}, {"server.threads", ""},
                            {"server.diagnostics", "maybe"}, {"server.header_timeout", "10 s"}, {"server.header_timeout", "ten"},
                            {"server.max_header_bytes", "1PB"}, {"server.max_header_bytes", "-1"}, {"server.threads", "1\n2"}}) {
    auto st = s.set(key, value, "flag");
    ASSERT_FALSE(st) << key << "=" << value;
    EXPECT_EQ(st.error().code, Errc::invalid_argument);
    EXPECT_NE(st.error().message.find(key), std::string::npos) << st.error().message;
    EXPECT_NE(st.error().message.find("flag"), std::string::npos) << "names the source: " << st.error().message;
    EXPECT_EQ(st.error().message.find('\n'), std::string::npos) << "one line";
  }
  EXPECT_EQ(s.get_int("server.threads"), 4) << "a refused value leaves the old one";
  auto multi = s.set("server.threads", "1\n2", "flag");
  ASSERT_FALSE(multi);
  EXPECT_NE(multi.error().message.find("\"1\\n2\""), std::string::npos) << "escaped, not cut: " << multi.error().message;
}

TEST(Settings, UnknownKeyIsNamed) {
  Settings s = make_settings();
  auto st = s.set("server.listn", "x", "command line");
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("unknown setting server.listn"), std::string::npos) << st.error().message;
}

TEST(Settings, EnvironmentNames) {
  EXPECT_EQ(env_name("server.listen"), "CIEL_SERVER_LISTEN");
  EXPECT_EQ(env_name("server.max_header_bytes"), "CIEL_SERVER_MAX_HEADER_BYTES");
  EXPECT_EQ(env_name("data_dir"), "CIEL_DATA_DIR");
  EXPECT_EQ(env_name("a-b.c"), "CIEL_A_B_C");
}

TEST(Settings, EnvironmentAppliesKnownKeysAndIgnoresOthers) {
  Settings s = make_settings();
  char a[] = "CIEL_SERVER_THREADS=3";
  char b[] = "CIEL_SOMETHING_ELSE=1";
  char c[] = "PATH=/usr/bin";
  char d[] = "CIEL_SERVER_LISTEN_X=nope";
  char* envp[] = {a, b, c, d, nullptr};
  ASSERT_TRUE(s.apply_environment(envp));
  EXPECT_EQ(s.get_int("server.threads"), 3);
  EXPECT_EQ(s.get_string("server.listen"), "127.0.0.1:8080");
  EXPECT_TRUE(s.apply_environment(nullptr));

  char bad[] = "CIEL_SERVER_THREADS=lots";
  char* bad_env[] = {bad, nullptr};
  auto st = s.apply_environment(bad_env);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("server.threads"), std::string::npos);
  EXPECT_NE(st.error().message.find("CIEL_SERVER_THREADS"), std::string::npos);
}

TEST(Settings, TomlTablesBecomeDottedKeys) {
  Settings s = make_settings();
  auto st = s.load_toml_string(
      "[server]\nlisten = \"0.0.0.0:9000\"\nthreads = 2\ndiagnostics = true\nheader_timeout = \"3s\"\n"
      "max_header_bytes = 8192\n[log]\nlevel = \"debug\"\n",
      "test.toml");
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_EQ(s.get_string("server.listen"), "0.0.0.0:9000");
  EXPECT_EQ(s.get_int("server.threads"), 2);
  EXPECT_TRUE(s.get_bool("server.diagnostics"));
  EXPECT_EQ(s.get_duration("server.header_timeout"), std::chrono::seconds(3));
  EXPECT_EQ(s.get_bytes("server.max_header_bytes"), 8192u);
  EXPECT_EQ(s.get_string("log.level"), "debug");
  // Dotted keys work too.
  ASSERT_TRUE(s.load_toml_string("server.threads = 5\n", "inline"));
  EXPECT_EQ(s.get_int("server.threads"), 5);
}

TEST(Settings, TomlErrorsNameTheKeyOrTheLine) {
  Settings s = make_settings();
  auto unknown = s.load_toml_string("[server]\nlisen = \"x\"\n", "a.toml");
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("server.lisen"), std::string::npos) << unknown.error().message;
  auto kind = s.load_toml_string("[server]\nthreads = 1.5\n", "b.toml");
  ASSERT_FALSE(kind);
  EXPECT_NE(kind.error().message.find("server.threads"), std::string::npos) << kind.error().message;
  auto array = s.load_toml_string("[server]\nlisten = [1, 2]\n", "c.toml");
  ASSERT_FALSE(array);
  EXPECT_NE(array.error().message.find("server.listen"), std::string::npos) << array.error().message;
  auto quoted = s.load_toml_string("\"server.\\nx\" = 1\nserver.threads = \"2\\n3\"\n", "e.toml");
  ASSERT_FALSE(quoted);
  EXPECT_EQ(quoted.error().message.find('\n'), std::string::npos) << quoted.error().message;
  auto syntax = s.load_toml_string("[server\nthreads = 1\n", "d.toml");
  ASSERT_FALSE(syntax);
  EXPECT_NE(syntax.error().message.find("d.toml line 1"), std::string::npos) << syntax.error().message;
  EXPECT_EQ(syntax.error().message.find('\n'), std::string::npos) << syntax.error().message;
}

TEST(Settings, NonAsciiWhereTomlExpectsWhitespaceIsAnErrorNotUndefinedBehaviour) {
  // Both reached __builtin_unreachable() in toml++ 3.3.0 (UBSan aborts here without the fix).
  Settings s = make_settings();
  auto inline_table = s.load_toml_string("[a]\nb = {\xef\xba\xbf}\n", "u1.toml");
  EXPECT_FALSE(inline_table);
  auto section = s.load_toml_string("s = \"\"\"\\\n\xc2\xa7\"\"\"\n", "u2.toml");
  if (!section) { EXPECT_EQ(section.error().message.find('\n'), std::string::npos); }
  EXPECT_FALSE(s.load_toml_string("\xcc\xaa", "u3.toml"));
  EXPECT_FALSE(s.load_toml_string("x = 1 \xc2\xa1\n", "u4.toml"));
}

TEST(Settings, LayersOverrideInOrder) {
  // The CLI applies file, then environment, then flags; each layer overrides the one before.
  test::TempDir dir;
  std::string file = dir.path() + "/ciel.toml";
  std::ofstream(file) << "[server]\nthreads = 2\nlisten = \"127.0.0.1:1\"\n[log]\nlevel = \"warn\"\n";
  Settings s = make_settings();
  ASSERT_TRUE(s.load_toml_file(file));
  char a[] = "CIEL_SERVER_THREADS=3";
  char b[] = "CIEL_SERVER_LISTEN=127.0.0.1:2";
  char* envp[] = {a, b, nullptr};
  ASSERT_TRUE(s.apply_environment(envp));
  ASSERT_TRUE(s.set("server.threads", "4", "command line"));
  EXPECT_EQ(s.get_int("server.threads"), 4);                    // flag
  EXPECT_EQ(s.get_string("server.listen"), "127.0.0.1:2");      // environment
  EXPECT_EQ(s.get_string("log.level"), "warn");                 // file
  EXPECT_EQ(s.get_duration("server.header_timeout").count(), 10'000);  // default
  EXPECT_FALSE(s.load_toml_file(dir.path() + "/missing.toml"));
}

TEST(Settings, HelpListsEveryKeyDefaultAndVariable) {
  Settings s = make_settings();
  std::string help = s.help_text();
  for (const auto& spec : s.specs()) {
    EXPECT_NE(help.find("  " + spec.key + " ("), std::string::npos) << spec.key;
    EXPECT_NE(help.find("default \"" + spec.default_value + "\""), std::string::npos) << spec.key;
    EXPECT_NE(help.find("environment: " + env_name(spec.key)), std::string::npos) << spec.key;
  }
}

TEST(ParseDuration, Units) {
  EXPECT_EQ(*parse_duration("250ms"), std::chrono::milliseconds(250));
  EXPECT_EQ(*parse_duration("30s"), std::chrono::seconds(30));
  EXPECT_EQ(*parse_duration("30"), std::chrono::seconds(30));
  EXPECT_EQ(*parse_duration("5m"), std::chrono::minutes(5));
  EXPECT_EQ(*parse_duration("1h"), std::chrono::hours(1));
  EXPECT_EQ(*parse_duration("2d"), std::chrono::hours(48));
  for (const char* bad : {"", "s", "-1s", "1.5s", "1 s", "1sec", "ms5"}) { EXPECT_FALSE(parse_duration(bad)) << bad; }
}

TEST(ParseDuration, OverflowIsAnError) {
  EXPECT_FALSE(parse_duration("99999999999999999999s"));
  EXPECT_FALSE(parse_duration("9999999999999999h"));
  EXPECT_FALSE(parse_duration("9223372036854775807d"));
}

TEST(ParseBytes, Units) {
  EXPECT_EQ(*parse_bytes("4096"), 4096u);
  EXPECT_EQ(*parse_bytes("10B"), 10u);
  EXPECT_EQ(*parse_bytes("64KiB"), 65536u);
  EXPECT_EQ(*parse_bytes("64k"), 65536u);
  EXPECT_EQ(*parse_bytes("10MiB"), 10u << 20);
  EXPECT_EQ(*parse_bytes("1GiB"), 1u << 30);
  EXPECT_EQ(*parse_bytes("2TiB"), 2ull << 40);
  for (const char* bad : {"", "KiB", "-1", "1.5MiB", "1 MiB", "1MB", "1KB"}) { EXPECT_FALSE(parse_bytes(bad)) << bad; }
}

TEST(ParseBytes, OverflowIsAnError) {
  EXPECT_FALSE(parse_bytes("99999999999999999999"));
  EXPECT_FALSE(parse_bytes("9999999999TiB")) << "would wrap around 2^64";
}

}  // namespace
}  // namespace ciel::config
