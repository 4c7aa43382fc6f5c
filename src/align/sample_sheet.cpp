#include "genoforest/align/sample_sheet.hpp"

#include <fstream>
#include <map>

#include "genoforest/core/error.hpp"
#include "genoforest/core/text.hpp"

namespace genoforest::align {

std::string sample_id_problem(std::string_view id) {
  if (id.empty()) return "is empty";
  if (id.size() > 200) return "is longer than 200 characters";
  if (id.front() == '.') return "starts with '.'";
  if (id.front() == '-') return "starts with '-'";
  for (const char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    std::string_view("._-+:@=,#%").find(c) != std::string_view::npos;
    if (ok) continue;
    if (c == '/' || c == '\\') return "contains a path separator";
    if (c == ' ' || c == '\t') return "contains a space";
    if (c < 0x20 || c >= 0x7f) return "contains a control or non-ASCII character";
    return std::string("contains the character '") + c + "'";
  }
  return {};
}

std::string SampleEntry::read_group_line() const {
  std::string s = "@RG\tID:" + read_group + "\tSM:" + id + "\tLB:" + library + "\tPL:" + platform;
  if (!platform_unit.empty()) s += "\tPU:" + platform_unit;
  if (!center.empty()) s += "\tCN:" + center;
  return s;
}

std::vector<SampleEntry> read_sample_sheet(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw InputError(path.string(), "cannot open the sample sheet: " + errno_text());
  const std::filesystem::path base = path.parent_path();
  auto resolve = [&](std::string_view p) -> std::filesystem::path {
    if (p.empty()) return {};
    std::filesystem::path f(p);
    return f.is_absolute() || base.empty() ? f : base / f;
  };
  std::string line;
  std::int64_t line_no = 0;
  std::map<std::string, std::size_t> column;
  std::vector<SampleEntry> out;
  std::map<std::string, std::int64_t> seen;
  while (std::getline(in, line)) {
    ++line_no;
    const std::string_view v = trim(line);
    if (v.empty() || v.front() == '#') continue;
    const auto f = split(line.back() == '\r' ? std::string_view(line).substr(0, line.size() - 1) : std::string_view(line), '\t');
    const std::string where = path.string() + " line " + std::to_string(line_no);
    if (column.empty()) {
      for (std::size_t i = 0; i < f.size(); ++i) {
        const std::string name(trim(f[i]));
        if (!column.emplace(name, i).second) throw InputError(where, "column " + name + " appears twice in the header");
      }
      for (const char* need : {"sample_id", "fastq_1"}) {
        if (!column.count(need)) {
          throw InputError(where, std::string("the header has no ") + need +
                                      " column (expected: sample_id, fastq_1, fastq_2[, label, read_group, library, platform])");
        }
      }
      continue;
    }
    if (f.size() > column.size()) throw InputError(where, "more fields than header columns (" + std::to_string(f.size()) + ")");
    auto get = [&](const char* name) -> std::string_view {
      const auto it = column.find(name);
      return it == column.end() || it->second >= f.size() ? std::string_view{} : trim(f[it->second]);
    };
    SampleEntry e;
    e.line = line_no;
    e.id = std::string(get("sample_id"));
    if (e.id.empty()) throw InputError(where, "empty sample_id");
    if (const std::string why = sample_id_problem(e.id); !why.empty()) {
      throw InputError(where, "sample_id '" + e.id + "' " + why +
                                  " (it names the sample's files: letters, digits and . _ - + : @ = , # % only, "
                                  "not starting with '.' or '-', at most 200 characters)");
    }
    if (const auto [it, fresh] = seen.emplace(e.id, line_no); !fresh) {
      throw InputError(where, "duplicate sample_id " + e.id + " (first on line " + std::to_string(it->second) + ")");
    }
    e.fastq_1 = resolve(get("fastq_1"));
    if (e.fastq_1.empty()) throw InputError(where, "empty fastq_1 for sample " + e.id);
    e.fastq_2 = resolve(get("fastq_2"));
    e.label = std::string(get("label"));
    e.read_group = get("read_group").empty() ? e.id : std::string(get("read_group"));
    e.library = get("library").empty() ? e.id : std::string(get("library"));
    e.platform = get("platform").empty() ? "ILLUMINA" : std::string(get("platform"));
    e.platform_unit = std::string(get("platform_unit"));
    e.center = std::string(get("center"));
    out.push_back(std::move(e));
  }
  if (column.empty()) throw InputError(path.string(), "empty sample sheet (no header line)");
  if (out.empty()) throw InputError(path.string(), "no samples in the sample sheet");
  return out;
}

}  // namespace genoforest::align
