#include "core/http/mime.h"

#include <cctype>
#include <utility>

namespace ciel::http {

std::string guess_content_type(std::string_view name) {
  static constexpr std::pair<std::string_view, std::string_view> kTypes[] = {
      {"txt", "text/plain"}, {"html", "text/html"}, {"htm", "text/html"}, {"css", "text/css"}, {"csv", "text/csv"},
      {"md", "text/markdown"}, {"js", "application/javascript"}, {"json", "application/json"}, {"xml", "application/xml"},
      {"pdf", "application/pdf"}, {"zip", "application/zip"}, {"gz", "application/gzip"}, {"tgz", "application/gzip"},
      {"tar", "application/x-tar"}, {"png", "image/png"}, {"jpg", "image/jpeg"}, {"jpeg", "image/jpeg"}, {"gif", "image/gif"},
      {"svg", "image/svg+xml"}, {"webp", "image/webp"}, {"ico", "image/vnd.microsoft.icon"}, {"mp3", "audio/mpeg"},
      {"mp4", "video/mp4"}, {"webm", "video/webm"}, {"iso", "application/x-iso9660-image"}, {"qcow2", "application/octet-stream"},
      {"sh", "application/x-sh"}, {"py", "text/x-python"}, {"c", "text/x-c"}, {"h", "text/x-c"}, {"cc", "text/x-c++src"},
      {"yaml", "application/yaml"}, {"yml", "application/yaml"}, {"doc", "application/msword"}, {"odt", "application/vnd.oasis.opendocument.text"},
  };
  auto slash = name.rfind('/');
  auto base = slash == std::string_view::npos ? name : name.substr(slash + 1);
  auto dot = base.rfind('.');
  if (dot == std::string_view::npos || dot + 1 == base.size()) { return "application/octet-stream"; }
  std::string ext(base.substr(dot + 1));
  for (auto& ch : ext) { ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch))); }
  for (auto [e, t] : kTypes) {
    if (e == ext) { return std::string(t); }
  }
  return "application/octet-stream";
}

}  // namespace ciel::http
