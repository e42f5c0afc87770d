// tests/fuzz/fuzz_check.h: an invariant check for fuzz targets that stays on in every build and
// makes libFuzzer record the input as a crash.
#pragma once
#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(expr)                                                          \
  do {                                                                            \
    if (!(expr)) {                                                                \
      std::fprintf(stderr, "invariant failed: %s (%s:%d)\n", #expr, __FILE__, __LINE__); \
      std::abort();                                                               \
    }                                                                             \
  } while (0)
