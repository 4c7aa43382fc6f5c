#include "genoforest/io/phenotype.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <unordered_map>

#include "genoforest/core/error.hpp"
#include "genoforest/core/text.hpp"

namespace genoforest::io {

namespace {
bool is_missing_label(std::string_view s) {
  return s.empty() || s == "NA" || s == "na" || s == "." || s == "-9" || s == "nan" || s == "NaN";
}
}  // namespace

LabelType parse_label_type(const std::string& s) {
  if (s == "auto") return LabelType::kAuto;
  if (s == "class") return LabelType::kClass;
  if (s == "quantitative") return LabelType::kQuantitative;
  throw UsageError("--label-type must be auto, class or quantitative (got '" + s + "')");
}

PhenotypeTable read_phenotypes(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw IoError("cannot read phenotype file " + path.string() + ": " + errno_text());
  PhenotypeTable t;
  t.path = path;
  std::string line;
  std::size_t lineno = 0;
  char sep = '\t';
  int c_id = -1, c_label = -1, c_pop = -1;
  std::size_t ncols = 0;
  std::unordered_map<std::string, std::size_t> seen;  // sample → line
  while (std::getline(in, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (lineno == 1) {
      if (line.starts_with("\xEF\xBB\xBF")) line.erase(0, 3);  // a UTF-8 byte-order mark (Excel's CSV)
      if (line.find('\t') == std::string::npos && line.find(',') != std::string::npos) sep = ',';
      const auto f = split(line, sep);
      ncols = f.size();
      for (std::size_t i = 0; i < f.size(); ++i) {
        const auto name = trim(f[i]);
        if (name == "sample_id" || name == "sample" || name == "samples" || name == "IID" || name == "#IID") {
          if (c_id < 0) c_id = static_cast<int>(i);
        } else if (name == "label") {
          c_label = static_cast<int>(i);
        } else if (name == "population") {
          c_pop = static_cast<int>(i);
        }
      }
      const std::string where = path.string() + " line 1";
      if (c_id < 0) throw InputError(where, "the header has no 'sample_id' column (expected: sample_id, label, population)");
      if (c_label < 0) throw InputError(where, "the header has no 'label' column (expected: sample_id, label, population)");
      t.has_population = c_pop >= 0;
      continue;
    }
    if (trim(line).empty()) continue;
    const auto f = split(line, sep);
    const std::string where = path.string() + " line " + std::to_string(lineno);
    if (f.size() != ncols) {
      throw InputError(where, "has " + std::to_string(f.size()) + " fields but the header has " + std::to_string(ncols));
    }
    PhenotypeRow row;
    row.sample_id = std::string(trim(f[static_cast<std::size_t>(c_id)]));
    if (row.sample_id.empty()) throw InputError(where, "empty sample ID");
    const auto lab = trim(f[static_cast<std::size_t>(c_label)]);
    if (!is_missing_label(lab)) row.label = std::string(lab);
    if (c_pop >= 0) row.population = std::string(trim(f[static_cast<std::size_t>(c_pop)]));
    const auto [it, inserted] = seen.emplace(row.sample_id, lineno);
    if (!inserted) {
      throw InputError(where, "duplicate sample ID '" + row.sample_id + "' (first on line " + std::to_string(it->second) + ")");
    }
    t.rows.push_back(std::move(row));
  }
  if (in.bad()) throw IoError("cannot read phenotype file " + path.string() + ": " + errno_text());
  if (lineno == 0) throw InputError(path.string(), "the file is empty (expected a header: sample_id, label, population)");
  return t;
}

EncodedLabels encode_labels(const PhenotypeTable& table, const std::vector<std::string>& samples, LabelType type,
                            const std::string& samples_source) {
  std::unordered_map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < samples.size(); ++i) index.emplace(samples[i], i);

  std::vector<std::string> absent;
  std::vector<const PhenotypeRow*> row_of(samples.size(), nullptr);
  for (const auto& r : table.rows) {
    const auto it = index.find(r.sample_id);
    if (it == index.end()) {
      absent.push_back(r.sample_id);
    } else {
      row_of[it->second] = &r;
    }
  }
  if (!absent.empty()) {
    std::string names;
    for (std::size_t i = 0; i < absent.size() && i < 3; ++i) names += (i ? ", " : "") + absent[i];
    if (absent.size() > 3) names += ", ...";
    throw InconsistentInputError(table.path.string(), std::to_string(absent.size()) + " sample(s) are not in " +
                                                          samples_source + " (" + names + ")");
  }

  EncodedLabels e;
  const std::size_t n = samples.size();
  e.population.assign(n, "");
  std::set<std::string> pops;
  bool all_int = true, all_num = true;
  for (std::size_t i = 0; i < n; ++i) {
    const PhenotypeRow* r = row_of[i];
    if (!r) {
      ++e.samples_without_phenotype;
      continue;
    }
    e.population[i] = r->population;
    if (!r->population.empty()) pops.insert(r->population);
    if (r->label.empty()) continue;
    if (!parse_int(r->label)) all_int = false;
    const auto d = parse_double(r->label);
    if (!d || !std::isfinite(*d)) all_num = false;
  }
  e.populations.assign(pops.begin(), pops.end());

  e.quantitative = type == LabelType::kQuantitative || (type == LabelType::kAuto && all_num && !all_int);
  if (e.quantitative) {
    e.value.assign(n, std::numeric_limits<double>::quiet_NaN());
    for (std::size_t i = 0; i < n; ++i) {
      const PhenotypeRow* r = row_of[i];
      if (!r || r->label.empty()) {
        ++e.missing_labels;
        continue;
      }
      const auto d = parse_double(r->label);
      if (!d || !std::isfinite(*d)) {
        throw InputError(table.path.string() + " sample " + r->sample_id,
                         "label '" + r->label + "' is not a number (--label-type quantitative)");
      }
      e.value[i] = *d;
    }
    return e;
  }

  std::set<std::string> distinct;
  for (const auto* r : row_of)
    if (r && !r->label.empty()) distinct.insert(r->label);
  e.classes.assign(distinct.begin(), distinct.end());
  if (all_int) {
    std::stable_sort(e.classes.begin(), e.classes.end(),
                     [](const std::string& a, const std::string& b) { return *parse_int(a) < *parse_int(b); });
  }
  std::map<std::string, int> code_of;
  for (std::size_t c = 0; c < e.classes.size(); ++c) code_of[e.classes[c]] = static_cast<int>(c);
  e.code.assign(n, -1);
  for (std::size_t i = 0; i < n; ++i) {
    const PhenotypeRow* r = row_of[i];
    if (!r || r->label.empty()) {
      ++e.missing_labels;
      continue;
    }
    e.code[i] = code_of.at(r->label);
  }
  return e;
}

}  // namespace genoforest::io
