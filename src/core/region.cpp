#include "genoforest/core/region.hpp"

#include <cctype>
#include <fstream>
#include <set>

#include "genoforest/core/error.hpp"
#include "genoforest/core/log.hpp"
#include "genoforest/core/text.hpp"

namespace genoforest {

std::string Region::to_string() const {
  if (beg == 0 && end == kToContigEnd) return contig;
  std::string s = contig + ":" + std::to_string(beg + 1);
  if (end != kToContigEnd) s += "-" + std::to_string(end);
  return s;
}

std::string canonical_contig(std::string_view c) {
  if (c.size() > 3 && (c[0] == 'c' || c[0] == 'C') && (c[1] == 'h' || c[1] == 'H') && (c[2] == 'r' || c[2] == 'R')) c.remove_prefix(3);
  return c == "M" ? std::string("MT") : std::string(c);
}

std::string match_contig(const std::string& wanted, const std::vector<std::string>& names) {
  std::string found;
  const std::string key = canonical_contig(wanted);
  for (const auto& n : names) {
    if (n == wanted) return n;
    if (canonical_contig(n) == key) {
      if (!found.empty()) return {};  // ambiguous: "1" and "chr1" both present
      found = n;
    }
  }
  return found;
}

void match_region_contigs(std::vector<Region>& regions, const std::vector<std::string>& names, const std::string& source,
                          const std::string& target) {
  std::set<std::string> logged;
  for (auto& r : regions) {
    const std::string m = match_contig(r.contig, names);
    if (m.empty() || m == r.contig) continue;
    if (logged.insert(r.contig).second) log_info("contig " + r.contig + " of " + source + " is " + m + " in " + target + " (contig alias)");
    r.contig = m;
  }
}

Region parse_region(const std::string& text) {
  const std::string_view t = trim(text);
  if (t.empty()) throw UsageError("empty region string");
  const std::size_t colon = t.rfind(':');
  if (colon != std::string_view::npos && colon > 0) {
    const std::string_view range = t.substr(colon + 1);
    const std::size_t dash = range.find('-');
    const auto start = parse_int(range.substr(0, dash), true);
    std::optional<std::int64_t> stop;
    bool open_end = dash == std::string_view::npos || dash + 1 == range.size();
    if (!open_end) stop = parse_int(range.substr(dash + 1), true);
    if (start && (open_end || stop)) {
      Region r{std::string(t.substr(0, colon)), *start - 1, open_end ? Region::kToContigEnd : *stop};
      if (*start < 1) throw UsageError("region '" + text + "': start must be >= 1 (positions are 1-based)");
      if (r.end < r.beg + 1) throw UsageError("region '" + text + "': end is before start");
      return r;
    }
  }
  return Region{std::string(t), 0, Region::kToContigEnd};
}

std::vector<Region> parse_region_list(const std::string& text) {
  // Commas separate regions but may also group digits inside one ("chr1:1,000-2,000"). A piece
  // continues the previous region when that one has a ':' and the piece has none and starts
  // with exactly three digits (a digit group), so "2:1-100,4:1-100" is still two regions.
  std::vector<std::string> pieces;
  for (std::string_view p : split(text, ',')) {
    const bool group = !pieces.empty() && pieces.back().find(':') != std::string::npos &&
                       p.find(':') == std::string_view::npos && p.size() >= 3 &&
                       std::isdigit(static_cast<unsigned char>(p[0])) &&
                       std::isdigit(static_cast<unsigned char>(p[1])) &&
                       std::isdigit(static_cast<unsigned char>(p[2])) &&
                       (p.size() == 3 || !std::isdigit(static_cast<unsigned char>(p[3])));
    if (group) {
      pieces.back() += p;
    } else {
      pieces.emplace_back(p);
    }
  }
  std::vector<Region> out;
  for (const auto& p : pieces)
    if (!trim(p).empty()) out.push_back(parse_region(p));
  if (out.empty()) throw UsageError("no region in '" + text + "'");
  return out;
}

std::vector<Region> read_bed(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw IoError("cannot read BED file " + path.string() + ": " + errno_text());
  std::vector<Region> out;
  std::string line;
  std::size_t lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    const std::string_view l = trim(line);
    if (l.empty() || l.front() == '#' || l.starts_with("track") || l.starts_with("browser")) continue;
    auto f = split(l, '\t');
    if (f.size() < 3) f = split(l, ' ');
    const std::string where = path.string() + " line " + std::to_string(lineno);
    if (f.size() < 3) throw InputError(where, "a BED line needs 3 tab-separated columns (chrom, start, end)");
    const auto b = parse_int(f[1]);
    const auto e = parse_int(f[2]);
    if (!b || !e) throw InputError(where, "start and end must be integers");
    if (*b < 0 || *e <= *b) throw InputError(where, "need 0 <= start < end (BED is 0-based, half-open)");
    out.push_back(Region{std::string(f[0]), *b, *e});
  }
  if (in.bad()) throw IoError("cannot read BED file " + path.string() + ": " + errno_text());
  return out;
}

}  // namespace genoforest
