#include "genoforest/core/log.hpp"

#include <sys/resource.h>

#include <cstdio>
#include <mutex>

namespace genoforest {

namespace {
struct LogState {
  std::string stage = "genoforest";
  LogLevel level = LogLevel::kInfo;
  std::string tag;
  bool prints_info = true;
  std::mutex mu;
};
LogState& state() {
  static LogState s;
  return s;
}

void emit(const char* kind, const std::string& msg, bool with_tag) {
  auto& s = state();
  std::lock_guard lock(s.mu);
  std::string line = "[" + s.stage + "] ";
  if (kind) {
    line += kind;
    if (with_tag && !s.tag.empty()) line += " (" + s.tag + ")";
    line += ": ";
  }
  line += msg;
  line += '\n';
  std::fputs(line.c_str(), stderr);
  std::fflush(stderr);
}
}  // namespace

void configure_log(const std::string& stage, LogLevel level, const std::string& process_tag,
                   bool prints_info) {
  auto& s = state();
  std::lock_guard lock(s.mu);
  s.stage = "genoforest " + stage;
  s.level = level;
  s.tag = process_tag;
  s.prints_info = prints_info;
}

const std::string& log_stage() { return state().stage; }

void log_debug(const std::string& msg) {
  if (state().level >= LogLevel::kDebug && state().prints_info) emit("debug", msg, false);
}
bool info_enabled() { return state().level >= LogLevel::kInfo && state().prints_info; }

void log_info(const std::string& msg) {
  if (state().level >= LogLevel::kInfo && state().prints_info) emit(nullptr, msg, false);
}
void log_warning(const std::string& msg) {
  if (state().level >= LogLevel::kWarning) emit("warning", msg, true);
}
void log_error(const std::string& msg) {
  auto& s = state();
  std::lock_guard lock(s.mu);
  const std::string line = s.stage + ": error: " + msg + "\n";
  std::fputs(line.c_str(), stderr);
  std::fflush(stderr);
}

long long peak_rss_bytes() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<long long>(ru.ru_maxrss) * 1024;
}

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

std::string human_bytes(long long bytes) {
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024.0 && u < 4) {
    v /= 1024.0;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, kUnits[u]);
  return buf;
}

}  // namespace genoforest
