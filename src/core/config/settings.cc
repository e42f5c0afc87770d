#include "core/config/settings.h"

#include <toml++/toml.h>

#include <cctype>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <sstream>

#include "core/check.h"

namespace ciel::config {
namespace {

Result<std::int64_t> parse_int(std::string_view text) {
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || p != text.data() + text.size() || text.empty()) {
    return make_error(Errc::invalid_argument, "expected an integer");
  }
  return v;
}

Result<bool> parse_bool(std::string_view text) {
  if (text == "true" || text == "1" || text == "yes" || text == "on") { return true; }
  if (text == "false" || text == "0" || text == "no" || text == "off") { return false; }
  return make_error(Errc::invalid_argument, "expected true or false");
}

std::string_view kind_name(Kind k) {
  switch (k) {
    case Kind::string: return "string";
    case Kind::integer: return "integer";
    case Kind::boolean: return "boolean";
    case Kind::duration: return "duration";
    case Kind::bytes: return "size";
  }
  return "string";
}

// Keys and values quoted in error messages: control characters escaped and long values cut, so
// the error stays on the one line the CLI prints.
std::string printable(std::string_view text) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (char c : text.substr(0, 200)) {
    auto u = static_cast<unsigned char>(c);
    if (c == '\n') { out += "\\n"; }
    else if (c == '\r') { out += "\\r"; }
    else if (c == '\t') { out += "\\t"; }
    else if (u < 0x20 || u == 0x7f) { out += "\\x"; out.push_back(hex[u >> 4]); out.push_back(hex[u & 15]); }
    else { out.push_back(c); }
  }
  if (text.size() > 200) { out += "..."; }
  return out;
}

Status check_kind(Kind kind, std::string_view value) {
  switch (kind) {
    case Kind::string: return {};
    case Kind::integer: { auto r = parse_int(value); if (!r) { return r.error(); } return {}; }
    case Kind::boolean: { auto r = parse_bool(value); if (!r) { return r.error(); } return {}; }
    case Kind::duration: { auto r = parse_duration(value); if (!r) { return r.error(); } return {}; }
    case Kind::bytes: { auto r = parse_bytes(value); if (!r) { return r.error(); } return {}; }
  }
  return {};
}

// Flattens a TOML table into dotted keys with string values.
Status flatten(const toml::table& table, const std::string& prefix, Settings& settings, std::string_view source) {
  for (const auto& [k, node] : table) {
    std::string key = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
    if (const auto* sub = node.as_table()) {
      if (auto st = flatten(*sub, key, settings, source); !st) { return st; }
      continue;
    }
    std::string value;
    if (auto s = node.value<std::string>(); s && node.is_string()) {
      value = *s;
    } else if (node.is_integer()) {
      value = std::to_string(*node.value<std::int64_t>());
    } else if (node.is_boolean()) {
      value = *node.value<bool>() ? "true" : "false";
    } else if (node.is_floating_point()) {
      std::ostringstream os;
      os << *node.value<double>();
      value = os.str();
    } else {
      return make_error(Errc::invalid_argument, "invalid setting " + printable(key) + " in " + std::string(source) +
                                                    ": arrays and dates are not supported here");
    }
    if (auto st = settings.set(key, value, source); !st) { return st; }
  }
  return {};
}

}  // namespace

std::string env_name(std::string_view key) {
  std::string out = "CIEL_";
  for (char c : key) {
    out.push_back(c == '.' || c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  return out;
}

Result<std::chrono::milliseconds> parse_duration(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) { ++i; }
  if (i == 0) { return make_error(Errc::invalid_argument, "expected a duration such as 30s, 5m, 250ms or 1h"); }
  auto n = parse_int(text.substr(0, i));
  if (!n) { return n.error(); }
  std::string_view unit = text.substr(i);
  std::int64_t mult = 0;
  if (unit == "ms") { mult = 1; }
  else if (unit == "s" || unit.empty()) { mult = 1000; }
  else if (unit == "m") { mult = 60'000; }
  else if (unit == "h") { mult = 3'600'000; }
  else if (unit == "d") { mult = 86'400'000; }
  else { return make_error(Errc::invalid_argument, "expected a duration such as 30s, 5m, 250ms or 1h"); }
  if (*n > INT64_MAX / mult) { return make_error(Errc::invalid_argument, "duration is too large"); }
  return std::chrono::milliseconds(*n * mult);
}

Result<std::uint64_t> parse_bytes(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) { ++i; }
  if (i == 0) { return make_error(Errc::invalid_argument, "expected a size such as 4096, 64KiB, 10MiB or 1GiB"); }
  auto n = parse_int(text.substr(0, i));
  if (!n) { return n.error(); }
  std::string_view unit = text.substr(i);
  std::uint64_t mult = 1;
  if (unit.empty() || unit == "B") { mult = 1; }
  else if (unit == "KiB" || unit == "K" || unit == "k") { mult = 1024; }
  else if (unit == "MiB" || unit == "M") { mult = 1024ull * 1024; }
  else if (unit == "GiB" || unit == "G") { mult = 1024ull * 1024 * 1024; }
  else if (unit == "TiB" || unit == "T") { mult = 1024ull * 1024 * 1024 * 1024; }
  else { return make_error(Errc::invalid_argument, "expected a size such as 4096, 64KiB, 10MiB or 1GiB"); }
  if (static_cast<std::uint64_t>(*n) > UINT64_MAX / mult) { return make_error(Errc::invalid_argument, "size is too large"); }
  return static_cast<std::uint64_t>(*n) * mult;
}

void Settings::declare(SettingSpec spec) {
  if (find(spec.key) != nullptr) { return; }
  CIEL_CHECK(check_kind(spec.kind, spec.default_value).has_value());
  specs_.push_back(std::move(spec));
}

const SettingSpec* Settings::find(std::string_view key) const {
  for (const auto& s : specs_) {
    if (s.key == key) { return &s; }
  }
  return nullptr;
}

Status Settings::set(std::string_view key, std::string_view value, std::string_view source) {
  const SettingSpec* spec = find(key);
  if (spec == nullptr) {
    return make_error(Errc::invalid_argument, "unknown setting " + printable(key) + " (from " + printable(source) + ")");
  }
  if (auto st = check_kind(spec->kind, value); !st) {
    return make_error(Errc::invalid_argument, "invalid setting " + std::string(key) + " = \"" + printable(value) +
                                                  "\" (from " + printable(source) + "): " + st.error().message);
  }
  values_.insert_or_assign(std::string(key), std::string(value));
  return {};
}

// toml++ as Debian builds it reports parse errors by exception; this is startup code.
Status Settings::load_toml_string(std::string_view text, std::string_view source) {
  try {
    toml::table table = toml::parse(text, source);
    return flatten(table, "", *this, source);
  } catch (const toml::parse_error& err) {
    return make_error(Errc::invalid_argument, "invalid config file " + std::string(source) + " line " +
                                                  std::to_string(err.source().begin.line) + ": " + printable(err.description()));
  }
}

Status Settings::load_toml_file(const std::string& path) {
  try {
    toml::table table = toml::parse_file(path);
    return flatten(table, "", *this, path);
  } catch (const toml::parse_error& err) {
    return make_error(Errc::invalid_argument, "invalid config file " + path + " line " +
                                                  std::to_string(err.source().begin.line) + ": " + printable(err.description()));
  }
}

Status Settings::apply_environment(char** envp) {
  if (envp == nullptr) { return {}; }
  for (const auto& spec : specs_) {
    std::string name = env_name(spec.key) + "=";
    for (char** e = envp; *e != nullptr; ++e) {
      if (std::strncmp(*e, name.c_str(), name.size()) == 0) {
        if (auto st = set(spec.key, *e + name.size(), "environment " + name.substr(0, name.size() - 1)); !st) { return st; }
      }
    }
  }
  return {};
}

bool Settings::has(std::string_view key) const { return find(key) != nullptr; }

std::string Settings::get_string(std::string_view key) const {
  if (auto it = values_.find(key); it != values_.end()) { return it->second; }
  const SettingSpec* spec = find(key);
  CIEL_CHECK(spec != nullptr);
  return spec->default_value;
}

std::int64_t Settings::get_int(std::string_view key) const { return *parse_int(get_string(key)); }
bool Settings::get_bool(std::string_view key) const { return *parse_bool(get_string(key)); }
std::chrono::milliseconds Settings::get_duration(std::string_view key) const { return *parse_duration(get_string(key)); }
std::uint64_t Settings::get_bytes(std::string_view key) const { return *parse_bytes(get_string(key)); }

std::string Settings::help_text() const {
  std::string out;
  for (const auto& s : specs_) {
    out += "  " + s.key + " (" + std::string(kind_name(s.kind)) + ", default \"" + s.default_value + "\")\n";
    out += "      " + s.help + "\n";
    out += "      environment: " + env_name(s.key) + "\n";
  }
  return out;
}

}  // namespace ciel::config
