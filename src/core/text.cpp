#include "genoforest/core/text.hpp"

#include <cstdio>

#include <cerrno>
#include <charconv>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <cstring>

namespace genoforest {

std::vector<std::string_view> split(std::string_view line, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t p = line.find(sep, start);
    if (p == std::string_view::npos) {
      out.push_back(line.substr(start));
      return out;
    }
    out.push_back(line.substr(start, p - start));
    start = p + 1;
  }
}

std::string_view trim(std::string_view s) {
  const auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && ws(s.front())) s.remove_prefix(1);
  while (!s.empty() && ws(s.back())) s.remove_suffix(1);
  return s;
}

std::optional<std::int64_t> parse_int(std::string_view s, bool allow_commas) {
  std::string clean;
  if (allow_commas && s.find(',') != std::string_view::npos) {
    for (char c : s)
      if (c != ',') clean += c;
    s = clean;
  }
  if (s.empty()) return std::nullopt;
  if (s.front() == '+') s.remove_prefix(1);
  std::int64_t v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<double> parse_double(std::string_view s) {
  if (s.empty()) return std::nullopt;
  const std::string tmp(s);
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(tmp.c_str(), &end);
  if (end != tmp.c_str() + tmp.size() || errno == ERANGE) return std::nullopt;
  return v;
}

std::optional<std::int64_t> parse_size(std::string_view s) {
  s = trim(s);
  std::size_t unit = s.size();
  while (unit > 0 && std::isalpha(static_cast<unsigned char>(s[unit - 1]))) --unit;
  std::string u(s.substr(unit));
  for (auto& c : u) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  double scale = 1;
  if (!u.empty()) {
    const char* units = "KMGT";
    const char* at = std::strchr(units, u[0]);
    if (!at || (u.size() > 1 && u.substr(1) != "B" && u.substr(1) != "IB")) {
      if (u != "B") return std::nullopt;
    } else {
      scale = std::ldexp(1.0, 10 * static_cast<int>(at - units + 1));
    }
  }
  const auto v = parse_double(s.substr(0, unit));
  if (!v || !(*v > 0) || !std::isfinite(*v) || *v * scale >= 9.2e18) return std::nullopt;
  const auto bytes = static_cast<std::int64_t>(*v * scale);
  if (bytes < 1) return std::nullopt;
  return bytes;
}

std::string format_size(std::int64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char b[64];
  if (u == 0) std::snprintf(b, sizeof b, "%lld B", static_cast<long long>(bytes));
  else std::snprintf(b, sizeof b, "%.1f %s", v, units[u]);
  return b;
}

std::string json_string(std::string_view s) {
  std::string o = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      char b[8];
      std::snprintf(b, sizeof b, "\\u%04x", c);
      o += b;
      continue;
    }
    o += c;
  }
  return o + "\"";
}

std::uint64_t fnv1a64(std::string_view bytes) noexcept {
  std::uint64_t h = 1469598103934665603ULL;
  for (const unsigned char c : bytes) h = (h ^ c) * 1099511628211ULL;
  return h;
}

std::vector<std::string> split_blanks(std::string_view line) {
  std::vector<std::string> out;
  std::size_t i = 0;
  auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
  while (i < line.size()) {
    while (i < line.size() && blank(line[i])) ++i;
    const std::size_t b = i;
    while (i < line.size() && !blank(line[i])) ++i;
    if (i > b) out.emplace_back(line.substr(b, i - b));
  }
  return out;
}

}  // namespace genoforest
