// Boost.URL compiled once for the whole program.
#include <boost/url/src.hpp>
