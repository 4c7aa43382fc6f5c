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

namespace {

enum class Sep { kTab, kComma, kSpace };

/// The fields of a line: tab- or comma-separated (CSV: RFC 4180 quotes, "" for a quote inside),
/// or separated by runs of blanks (plink's whitespace-delimited files). Each field trimmed.
/// Returns false for an unterminated quote.
bool fields_of(const std::string& line, Sep sep, std::vector<std::string>& out) {
  out.clear();
  if (sep == Sep::kSpace) {
    out = split_blanks(line);
    return true;
  }
  const char c = sep == Sep::kTab ? '\t' : ',';
  std::string cur;
  bool quoted = false, was_quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char ch = line[i];
    if (sep == Sep::kComma && ch == '"') {
      if (quoted && i + 1 < line.size() && line[i + 1] == '"') {
        cur += '"';
        ++i;
      } else if (quoted) {
        quoted = false;
      } else if (std::string(trim(cur)).empty()) {
        quoted = was_quoted = true;
        cur.clear();
      } else {
        cur += ch;
      }
    } else if (ch == c && !quoted) {
      out.push_back(was_quoted ? cur : std::string(trim(cur)));
      cur.clear();
      was_quoted = false;
    } else {
      cur += ch;
    }
  }
  if (quoted) return false;
  out.push_back(was_quoted ? cur : std::string(trim(cur)));
  return true;
}

bool is_id_column(const std::string& name) {
  return name == "sample_id" || name == "sample" || name == "samples" || name == "IID" || name == "#IID" ||
         name == "iid";
}
/// Columns that are never the label: identifiers and plink's other fixed columns.
bool is_fixed_column(const std::string& name) {
  return is_id_column(name) || name == "FID" || name == "#FID" || name == "population" || name == "SEX" ||
         name == "PAT" || name == "MAT" || name.empty();
}

}  // namespace

PhenotypeTable read_phenotypes(const std::filesystem::path& path, const std::string& pheno_name) {
  std::ifstream in(path);
  if (!in) throw IoError("cannot read phenotype file " + path.string() + ": " + errno_text());
  PhenotypeTable t;
  t.path = path;
  std::string line;
  std::size_t lineno = 0;
  Sep sep = Sep::kTab;
  int c_id = -1, c_label = -1, c_pop = -1;
  std::size_t ncols = 0;
  std::vector<std::string> f;
  std::unordered_map<std::string, std::size_t> seen;  // sample → line
  auto add_row = [&](const std::string& where) {
    // Empty fields past the header's columns (tabs left at line ends) are dropped.
    while (f.size() > ncols && f.back().empty()) f.pop_back();
    if (f.size() != ncols) {
      throw InputError(where, "has " + std::to_string(f.size()) + " fields but the header has " + std::to_string(ncols));
    }
    PhenotypeRow row;
    row.sample_id = f[static_cast<std::size_t>(c_id)];
    if (row.sample_id.empty()) throw InputError(where, "empty sample ID");
    const auto& lab = f[static_cast<std::size_t>(c_label)];
    if (!is_missing_label(lab)) row.label = lab;
    if (c_pop >= 0) row.population = f[static_cast<std::size_t>(c_pop)];
    const auto [it, inserted] = seen.emplace(row.sample_id, lineno);
    if (!inserted) {
      throw InputError(where, "duplicate sample ID '" + row.sample_id + "' (first on line " + std::to_string(it->second) + ")");
    }
    t.rows.push_back(std::move(row));
  };
  while (std::getline(in, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const std::string where = path.string() + " line " + std::to_string(lineno);
    if (lineno == 1) {
      if (line.starts_with("\xEF\xBB\xBF")) line.erase(0, 3);  // a UTF-8 byte-order mark (Excel's CSV)
      // Tabs, else commas (CSV), else blanks (plink's .pheno and .cov).
      sep = line.find('\t') != std::string::npos ? Sep::kTab
            : line.find(',') != std::string::npos ? Sep::kComma
                                                   : Sep::kSpace;
      if (!fields_of(line, sep, f)) throw InputError(where, "a quoted field is not closed");
      if (sep == Sep::kTab) {
        while (!f.empty() && f.back().empty()) f.pop_back();  // tabs at the end of the header
      }
      ncols = f.size();
      for (std::size_t i = 0; i < f.size(); ++i) {
        const auto& name = f[i];
        if (is_id_column(name)) {
          if (c_id < 0) c_id = static_cast<int>(i);
        } else if (!pheno_name.empty() ? name == pheno_name : name == "label") {
          c_label = static_cast<int>(i);
        } else if (name == "population") {
          c_pop = static_cast<int>(i);
        }
      }
      // plink 1's headerless .pheno: FID IID value...: columns FID, IID, PHENO1, PHENO2, ...
      const bool headerless = c_id < 0 && sep == Sep::kSpace && f.size() >= 3 && !f[0].starts_with('#');
      if (headerless) {
        c_id = 1;
        c_label = -1;
        const std::string want = pheno_name.empty() ? "PHENO1" : pheno_name;
        for (std::size_t i = 2; i < f.size(); ++i)
          if (want == "PHENO" + std::to_string(i - 1)) c_label = static_cast<int>(i);
        if (c_label < 0) {
          throw InputError(path.string(), "no header line (read as plink's FID IID PHENO1..PHENO" +
                                              std::to_string(f.size() - 2) + "), and no column " + want);
        }
        t.has_population = false;
        t.label_column = want;
        add_row(where);
        continue;
      }
      if (c_id < 0) {
        throw InputError(where + " (the header)",
                         "no sample ID column: expected sample_id (or IID, as plink writes it), a label column and "
                         "optionally population");
      }
      if (c_label < 0) {
        std::vector<std::string> candidates;
        for (const auto& name : f)
          if (!is_fixed_column(name)) candidates.push_back(name);
        if (pheno_name.empty() && candidates.size() == 1) {
          // One phenotype column (plink's .pheno: FID IID NAME): that is the label.
          for (std::size_t i = 0; i < f.size(); ++i)
            if (f[i] == candidates.front()) c_label = static_cast<int>(i);
        } else {
          std::string list;
          for (std::size_t i = 0; i < candidates.size() && i < 8; ++i) list += (i ? ", " : "") + candidates[i];
          if (candidates.size() > 8) list += ", ...";
          throw InputError(where + " (the header)",
                           pheno_name.empty()
                               ? "no 'label' column; pick the label among its columns with --pheno-name (" +
                                     (list.empty() ? std::string("none") : list) + ")"
                               : "no column '" + pheno_name + "' (--pheno-name); its columns: " + (list.empty() ? "none" : list));
        }
      }
      t.has_population = c_pop >= 0;
      t.label_column = f[static_cast<std::size_t>(c_label)];
      continue;
    }
    if (trim(line).empty()) continue;
    if (!fields_of(line, sep, f)) throw InputError(where, "a quoted field is not closed");
    add_row(where);
  }
  if (in.bad()) throw IoError("cannot read phenotype file " + path.string() + ": " + errno_text());
  if (lineno == 0) throw InputError(path.string(), "the file is empty (expected a header: sample_id, label, population)");
  return t;
}

namespace {
/// "A, B, C, ..." : the first three names.
std::string first_few(const std::vector<std::string>& names) {
  std::string s;
  for (std::size_t i = 0; i < names.size() && i < 3; ++i) s += (i ? ", " : "") + names[i];
  if (names.size() > 3) s += ", ...";
  return s;
}

/// A table (of `rows` rows) none of whose samples is among `samples` (another cohort, or IDs
/// written another way, FID_IID): InconsistentInputError naming a few of each.
void refuse_when_none_match(const std::filesystem::path& table, const std::vector<std::string>& absent, std::size_t rows,
                            const std::vector<std::string>& samples, const std::string& samples_source) {
  if (rows == 0 || absent.size() != rows) return;
  throw InconsistentInputError(table.string(), "none of its " + std::to_string(rows) + " samples (" + first_few(absent) + ") is in " +
                                                   samples_source + " (" + first_few(samples) + ")");
}
}  // namespace

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
  EncodedLabels e;
  if (!absent.empty()) {
    refuse_when_none_match(table.path, absent, table.rows.size(), samples, samples_source);
    // As plink2: samples of the table that the genotypes lack are left out, and said so.
    e.table_samples_not_in_input = absent.size();
    e.absent_examples = first_few(absent);
  }
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

namespace {
/// Columns that identify a sample rather than describe it (never covariates).
bool is_covariate_id_column(const std::string& name) {
  return is_id_column(name) || name == "FID" || name == "#FID" || name == "SID" || name == "PAT" || name == "MAT";
}
}  // namespace

CovariateTable read_covariates(const std::filesystem::path& path, const std::vector<std::string>& names) {
  std::ifstream in(path);
  if (!in) throw IoError("cannot read covariate file " + path.string() + ": " + errno_text());
  CovariateTable t;
  t.path = path;
  std::string line;
  std::size_t lineno = 0;
  Sep sep = Sep::kTab;
  int c_id = -1;
  std::vector<std::string> header, f;
  std::vector<std::vector<std::string>> cells;  // [row][column] of the data lines
  std::vector<std::size_t> line_of;              // file line of each row
  std::unordered_map<std::string, std::size_t> seen;
  while (std::getline(in, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const std::string where = path.string() + " line " + std::to_string(lineno);
    if (lineno == 1 && line.starts_with("\xEF\xBB\xBF")) line.erase(0, 3);
    if (lineno == 1) {
      sep = line.find('\t') != std::string::npos ? Sep::kTab : line.find(',') != std::string::npos ? Sep::kComma : Sep::kSpace;
    }
    if (trim(line).empty()) continue;
    if (!fields_of(line, sep, f)) throw InputError(where, "a quoted field is not closed");
    if (header.empty()) {
      if (sep == Sep::kTab)
        while (!f.empty() && f.back().empty()) f.pop_back();
      for (std::size_t i = 0; i < f.size(); ++i)
        if (c_id < 0 && is_id_column(f[i])) c_id = static_cast<int>(i);
      if (c_id >= 0) {
        header = f;
        continue;
      }
      // plink 1's headerless .cov: FID IID COVAR1 COVAR2 ...
      if (sep != Sep::kSpace || f.size() < 3 || f[0].starts_with('#')) {
        throw InputError(where + " (the header)", "no sample ID column: expected IID (plink), #IID (.eigenvec) or sample_id");
      }
      header = {"FID", "IID"};
      for (std::size_t i = 2; i < f.size(); ++i) header.push_back("COVAR" + std::to_string(i - 1));
      c_id = 1;
    }
    while (f.size() > header.size() && f.back().empty()) f.pop_back();
    if (f.size() != header.size()) {
      throw InputError(where, "has " + std::to_string(f.size()) + " fields but the header has " + std::to_string(header.size()));
    }
    const std::string& id = f[static_cast<std::size_t>(c_id)];
    if (id.empty()) throw InputError(where, "empty sample ID");
    const auto [it, inserted] = seen.emplace(id, lineno);
    if (!inserted) throw InputError(where, "duplicate sample ID '" + id + "' (first on line " + std::to_string(it->second) + ")");
    cells.push_back(f);
    line_of.push_back(lineno);
  }
  if (in.bad()) throw IoError("cannot read covariate file " + path.string() + ": " + errno_text());
  if (header.empty()) throw InputError(path.string(), "the file is empty (expected a header: IID or sample_id, then covariates)");

  std::unordered_map<std::string, std::size_t> col;
  for (std::size_t i = 0; i < header.size(); ++i) col.emplace(header[i], i);
  auto list_columns = [&] {
    std::string l;
    std::size_t k = 0;
    for (const auto& h : header) {
      if (is_covariate_id_column(h) || h.empty()) continue;
      if (k == 8) return l + ", ...";
      l += (k++ ? ", " : "") + h;
    }
    return l.empty() ? std::string("none") : l;
  };
  std::vector<std::size_t> chosen;
  if (!names.empty()) {
    for (const auto& n : names) {
      if (col.count(n)) {
        chosen.push_back(col.at(n));
        continue;
      }
      const auto dash = n.find('-');  // a range, PC1-PC10 (plink2)
      if (dash != std::string::npos && col.count(n.substr(0, dash)) && col.count(n.substr(dash + 1)) &&
          col.at(n.substr(0, dash)) <= col.at(n.substr(dash + 1))) {
        for (std::size_t i = col.at(n.substr(0, dash)); i <= col.at(n.substr(dash + 1)); ++i) chosen.push_back(i);
        continue;
      }
      throw InputError(path.string() + " (the header)", "no column '" + n + "' (--covar-name); its columns: " + list_columns());
    }
  } else {
    for (std::size_t i = 0; i < header.size(); ++i)
      if (!is_covariate_id_column(header[i]) && !header[i].empty()) chosen.push_back(i);
  }
  std::set<std::size_t> taken;
  for (const auto c : chosen) {
    if (!taken.insert(c).second) continue;  // named twice
    std::vector<double> v(cells.size());
    bool numeric = true;
    for (std::size_t r = 0; r < cells.size() && numeric; ++r) {
      const std::string& x = cells[r][c];
      if (is_missing_label(x)) {
        v[r] = std::numeric_limits<double>::quiet_NaN();
        continue;
      }
      const auto d = parse_double(x);
      if (d && std::isfinite(*d)) {
        v[r] = *d;
      } else if (!names.empty()) {
        throw InputError(path.string() + " line " + std::to_string(line_of[r]),
                         "covariate " + header[c] + " is '" + x + "', not a number (code categories as numbers, or leave the column out of --covar-name)");
      } else {
        numeric = false;
      }
    }
    if (!numeric) {
      t.skipped.push_back(header[c]);
      continue;
    }
    t.names.push_back(header[c]);
    t.values.push_back(std::move(v));
  }
  if (t.names.empty()) {
    throw InputError(path.string(), "no numeric covariate column (its columns: " + list_columns() + ")");
  }
  for (const auto& r : cells) t.sample_ids.push_back(r[static_cast<std::size_t>(c_id)]);
  return t;
}

AlignedCovariates align_covariates(const CovariateTable& table, const std::vector<std::string>& samples,
                                   const std::string& samples_source) {
  std::unordered_map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < samples.size(); ++i) index.emplace(samples[i], i);
  AlignedCovariates a;
  a.names = table.names;
  a.values.assign(table.names.size(), std::vector<double>(samples.size(), std::numeric_limits<double>::quiet_NaN()));
  std::vector<bool> has(samples.size(), false);
  std::vector<std::string> absent;
  for (std::size_t r = 0; r < table.sample_ids.size(); ++r) {
    const auto it = index.find(table.sample_ids[r]);
    if (it == index.end()) {
      absent.push_back(table.sample_ids[r]);
      continue;
    }
    has[it->second] = true;
    for (std::size_t c = 0; c < table.names.size(); ++c) a.values[c][it->second] = table.values[c][r];
  }
  refuse_when_none_match(table.path, absent, table.sample_ids.size(), samples, samples_source);
  a.table_rows_not_in_samples = absent.size();
  a.absent_examples = first_few(absent);
  for (const bool h : has) a.samples_without_row += !h;
  return a;
}

}  // namespace genoforest::io
