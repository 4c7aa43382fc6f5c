#include "genoforest/core/error.hpp"

#include <cerrno>
#include <cstring>

namespace genoforest {

namespace {
/// An error whose message is already final (no "where: " to prepend).
class CarriedError : public Error {
 public:
  CarriedError(ExitCode code, const std::string& what) : Error(code, what) {}
};
}  // namespace

void rethrow_as(ExitCode code, const std::string& message) { throw CarriedError(code, message); }

std::string errno_text() {
  char buf[256];
  // GNU strerror_r returns a char* that may or may not point into buf.
  const char* s = strerror_r(errno, buf, sizeof buf);
  return s;
}

}  // namespace genoforest
