// core/check.h: invariants. CIEL_CHECK guards impossible states in every build (log, then abort);
// CIEL_ASSERT documents an invariant in debug builds. Never use either for client input.
#pragma once

namespace ciel::detail {
[[noreturn]] void check_failed(const char* expr, const char* file, int line);
}

#define CIEL_CHECK(expr) \
  do { if (!(expr)) { ::ciel::detail::check_failed(#expr, __FILE__, __LINE__); } } while (0)
#ifdef NDEBUG
#define CIEL_ASSERT(expr) do { (void)sizeof(expr); } while (0)
#else
#define CIEL_ASSERT(expr) CIEL_CHECK(expr)
#endif
