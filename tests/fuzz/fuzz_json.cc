// Boost.JSON compiled once for the fuzzers (the server gets it from src/core/boost/json.cc).
#include <boost/json/src.hpp>
