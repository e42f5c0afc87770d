// What the fuzzed core files need from the rest of core without linking the logger.
#include <cstdio>
#include <cstdlib>

#include "core/check.h"

namespace ciel::detail {
void check_failed(const char* expr, const char* file, int line) {
  std::fprintf(stderr, "CIEL_CHECK failed: %s at %s:%d\n", expr, file, line);
  std::abort();
}
}  // namespace ciel::detail
