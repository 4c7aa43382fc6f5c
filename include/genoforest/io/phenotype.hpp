#pragma once
/// @file phenotype.hpp
/// The phenotype table: one row per sample with its label and, optionally, its population.
///
/// Format: a header line naming the columns, then one line per sample; tab-separated, else
/// comma-separated (CSV with RFC 4180 quotes, as R's write.csv writes it) when the header has a
/// comma, else separated by blanks (plink's .pheno and .cov). A UTF-8 byte-order mark, CRLF line
/// ends and empty fields left by tabs at line ends are accepted. The sample column is `sample_id`
/// (or `sample`, `samples`, plink's `IID`/`#IID`); the label column is `label`, or the one named by
/// --pheno-name, or the only column besides the identifiers (FID, IID), `population`, SEX, PAT and
/// MAT; `population` is optional; other columns are ignored. A file whose first line has no sample
/// column and at least three blank-separated fields is plink 1's headerless FID IID PHENO1...
/// A label of "", "NA", "na", ".", "-9", "nan" or "NaN" is missing.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace genoforest::io {

/// How labels are interpreted.
enum class LabelType {
  kAuto,          ///< integers or non-numeric strings → classes; other numbers → quantitative
  kClass,         ///< every distinct label is a class
  kQuantitative,  ///< every label must parse as a number
};

/// One row of the table, as read.
struct PhenotypeRow {
  std::string sample_id;
  std::string label;       ///< empty when missing
  std::string population;  ///< empty when absent
};

/// The parsed table.
struct PhenotypeTable {
  std::filesystem::path path;
  std::vector<PhenotypeRow> rows;  ///< file order
  bool has_population = false;
  std::string label_column;  ///< the column the labels came from
};

/// Reads the table. Throws InputError with the line number for a missing required column, a
/// line with fewer fields than the header, an empty sample ID or a duplicate sample ID
/// (naming both lines); IoError if unreadable.
/// `pheno_name` (plink2's --pheno-name) names the label column; empty: `label`, or the only
/// candidate (an error lists the candidates when there are several).
[[nodiscard]] PhenotypeTable read_phenotypes(const std::filesystem::path& path, const std::string& pheno_name = "");

/// Labels aligned to a list of samples (the VCF's), encoded.
struct EncodedLabels {
  bool quantitative = false;
  std::vector<std::string> classes;  ///< class names; code i means classes[i] (classification)
  std::vector<int> code;             ///< per sample: class code, -1 when missing (classification)
  std::vector<double> value;         ///< per sample: value, NaN when missing (quantitative)
  std::vector<std::string> population;  ///< per sample; empty when unknown
  std::vector<std::string> populations;  ///< distinct populations, sorted
  std::size_t samples_without_phenotype = 0;  ///< samples absent from the table
  std::size_t table_samples_not_in_input = 0;  ///< rows of the table whose sample the genotypes lack
  std::string absent_examples;                 ///< the first few of those
  std::size_t missing_labels = 0;             ///< samples whose label is missing (incl. absent)
};

/// Aligns `table` to `samples` and encodes the labels. Class order: numeric order when every
/// label is an integer, else lexicographic. Rows of samples absent from `samples` are left out
/// and counted (as plink2 does); InconsistentInputError when not one row matches (naming a few of
/// each). InputError when `type` is quantitative and a label is not a number (with its sample).
[[nodiscard]] EncodedLabels encode_labels(const PhenotypeTable& table, const std::vector<std::string>& samples,
                                          LabelType type, const std::string& samples_source);

/// A covariate table (plink2's --covar): numeric columns per sample, read in the phenotype table's
/// formats (tabs, CSV, blanks; plink's .cov with FID IID, headerless FID IID COVAR1...; plink2's and
/// genoforest pca's .eigenvec, #FID/#IID first). Missing: "", NA, na, ".", -9, nan, NaN (plink2's
/// codes).
struct CovariateTable {
  std::filesystem::path path;
  std::vector<std::string> names;           ///< the covariates, in file order
  std::vector<std::string> sample_ids;      ///< rows, in file order
  std::vector<std::vector<double>> values;  ///< [covariate][row]; NaN when missing
  std::vector<std::string> skipped;         ///< columns left out as not numeric (none named)
};

/// Reads the covariates `names` (plink2's --covar-name: names, or ranges such as PC1-PC10, in
/// the order given), or, with none named, every column but the identifiers (FID, IID, SID, PAT,
/// MAT) whose values are all numbers. Throws InputError (with the line) for a named column that is
/// absent or holds a value that is not a number, a duplicate sample, a short line.
[[nodiscard]] CovariateTable read_covariates(const std::filesystem::path& path, const std::vector<std::string>& names = {});

/// The covariates of `table` aligned to `samples`.
struct AlignedCovariates {
  std::vector<std::string> names;
  std::vector<std::vector<double>> values;  ///< [covariate][sample]; NaN when missing or absent
  std::size_t samples_without_row = 0;      ///< samples the table lacks
  std::size_t table_rows_not_in_samples = 0;
  std::string absent_examples;              ///< the first few of those
};
/// InconsistentInputError when not one row of the table is one of `samples`.
[[nodiscard]] AlignedCovariates align_covariates(const CovariateTable& table, const std::vector<std::string>& samples,
                                                 const std::string& samples_source);

/// Parses "auto", "class", "quantitative"; throws UsageError otherwise.
[[nodiscard]] LabelType parse_label_type(const std::string& s);

}  // namespace genoforest::io
