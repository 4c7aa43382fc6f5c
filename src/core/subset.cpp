#include "genoforest/core/subset.hpp"

#include <algorithm>
#include <fstream>

#include "genoforest/core/error.hpp"
#include "genoforest/core/text.hpp"

namespace genoforest {

std::vector<std::string> read_sample_list(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw IoError("cannot read sample list " + path.string() + ": " + errno_text());
  std::vector<std::string> out;
  std::string line;
  std::size_t lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (lineno == 1 && line.starts_with("\xEF\xBB\xBF")) line.erase(0, 3);
    auto f = split_blanks(line);
    if (f.empty()) continue;
    if (lineno == 1 && (f[0].starts_with('#') || f.back() == "IID" || f.back() == "sample_id")) continue;  // a header
    if (f.size() > 2) {
      throw InputError(path.string() + " line " + std::to_string(lineno),
                       "has " + std::to_string(f.size()) + " fields: a sample list has one (ID) or two (FID IID) per line");
    }
    out.push_back(f.back());
  }
  if (in.bad()) throw IoError("cannot read sample list " + path.string() + ": " + errno_text());
  return out;
}

SampleSubset SampleSubset::from_files(const std::string& keep_file, const std::string& remove_file) {
  SampleSubset s;
  s.keep_file = keep_file;
  s.remove_file = remove_file;
  if (!keep_file.empty()) {
    const auto ids = read_sample_list(keep_file);
    s.keep.emplace(ids.begin(), ids.end());
  }
  if (!remove_file.empty()) {
    const auto ids = read_sample_list(remove_file);
    s.remove.insert(ids.begin(), ids.end());
  }
  return s;
}

std::vector<std::int64_t> SampleSubset::select(const std::vector<std::string>& samples, const std::string& source) const {
  std::vector<std::int64_t> out;
  for (std::size_t i = 0; i < samples.size(); ++i)
    if (kept(samples[i])) out.push_back(static_cast<std::int64_t>(i));
  if (out.empty() && !samples.empty()) {
    std::string what = keep ? "--keep " + keep_file : std::string();
    if (!remove.empty()) what += (what.empty() ? "" : " and ") + ("--remove " + remove_file);
    throw DataError(what + (keep && !remove.empty() ? " leave" : " leaves") + " none of the " + std::to_string(samples.size()) + " samples of " + source +
                    " (IDs written another way, e.g. FID_IID?)");
  }
  return out;
}

std::string SampleSubset::describe(std::size_t kept_n, std::size_t total) const {
  if (!active()) return {};
  std::string what = keep ? "--keep " + keep_file : std::string();
  if (!remove.empty()) what += (what.empty() ? "" : ", ") + ("--remove " + remove_file);
  return what + ": " + std::to_string(kept_n) + " of " + std::to_string(total) + " samples kept";
}

VariantList VariantList::read(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw IoError("cannot read variant list " + path.string() + ": " + errno_text());
  VariantList v;
  v.file = path.string();
  std::string line;
  std::size_t lineno = 0;
  std::vector<std::pair<std::size_t, std::vector<std::string>>> lines;
  bool bed = path.extension() == ".bed";
  while (std::getline(in, line)) {
    ++lineno;
    if (lineno == 1 && line.starts_with("\xEF\xBB\xBF")) line.erase(0, 3);
    auto f = split_blanks(line);
    if (f.empty() || f[0].starts_with('#') || f[0] == "track" || f[0] == "browser") continue;
    if (lines.empty() && f.size() >= 3 && parse_int(f[1]) && parse_int(f[2])) bed = true;
    lines.emplace_back(lineno, std::move(f));
  }
  if (in.bad()) throw IoError("cannot read variant list " + path.string() + ": " + errno_text());
  if (bed) {
    for (const auto& r : read_bed(path)) v.ranges[canonical_contig(r.contig)].emplace_back(r.beg, r.end);
    for (auto& [c, list] : v.ranges) {
      std::sort(list.begin(), list.end());
      std::vector<std::pair<std::int64_t, std::int64_t>> merged;
      for (const auto& r : list) {
        if (!merged.empty() && r.first <= merged.back().second) merged.back().second = std::max(merged.back().second, r.second);
        else merged.push_back(r);
      }
      list = std::move(merged);
    }
  } else {
    for (const auto& [n, f] : lines) {
      if (f.size() != 1) {
        throw InputError(path.string() + " line " + std::to_string(n),
                         "has " + std::to_string(f.size()) + " fields: a variant list has one ID per line (or give a BED file of ranges)");
      }
      v.ids.insert(f[0]);
    }
  }
  return v;
}

bool VariantList::contains(const std::string& chrom, std::int64_t pos, const std::string& id, const std::string& ref,
                           const std::string& alt) const {
  if (!ids.empty()) {
    if (id != "." && ids.count(id)) return true;
    if (ids.count(chrom + ":" + std::to_string(pos) + ":" + ref + ":" + alt)) return true;
  }
  if (ranges.empty()) return false;
  const auto it = ranges.find(canonical_contig(chrom));
  if (it == ranges.end()) return false;
  const std::int64_t p0 = pos - 1;
  const auto& list = it->second;  // merged: the last range starting at or before p0 is the only candidate
  auto r = std::upper_bound(list.begin(), list.end(), std::make_pair(p0, INT64_MAX));
  return r != list.begin() && p0 < std::prev(r)->second;
}

VariantSubset VariantSubset::from_files(const std::string& extract_file, const std::string& exclude_file) {
  VariantSubset s;
  if (!extract_file.empty()) {
    s.extract = VariantList::read(extract_file);
    s.has_extract = true;
  }
  if (!exclude_file.empty()) {
    s.exclude = VariantList::read(exclude_file);
    s.has_exclude = true;
  }
  return s;
}

}  // namespace genoforest
