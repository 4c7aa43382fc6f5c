// Helper for the integration tests (serial, no MPI):
//   gf_test_tool index FILE [csi]        build FILE.tbi (or FILE.csi) through htslib
//   gf_test_tool check-shap SHAP PRED     SHAP values of `explain` add up, with the expected value,
//                                         to each sample's prediction in PRED (`predict`'s TSV):
//                                         probabilities, or the logistic/softmax of boosted margins
//   gf_test_tool compare-vcf STORE VCF    check every dosage and variant row of STORE against a
//                                         naive parse of VCF's text (an independent oracle)
//   gf_test_tool check-hipster STORE      recompute the HipsterIndex score from the dosages of its
//                                         four causal SNPs and compare with the stored labels
//   gf_test_tool same-model A B           two model files hold the same forest (dates aside)
//   gf_test_tool dump-bam FILE [REF]      the records of a SAM/BAM/CRAM (REF: its FASTA) as SAM text
//   gf_test_tool dump-vcf FILE            a VCF/BCF as VCF text, the line with the command line
//                                         and date left out (compares runs and formats)
//   gf_test_tool bam-body FILE             the byte offset where a BAM's records start (after its header's blocks)
//   gf_test_tool bam-index BAM OUT         htslib's own index of BAM (what samtools index writes)
//   gf_test_tool compare-primary A B MIN  primary alignments of SAM/BAM A and B agree (contig,
//                                         position, strand, CIGAR) for at least MIN of A's reads
//   gf_test_tool so-write FILE            write 1-byte integer datasets through the scale-offset
//                                         filter (edge cases: fill values, full range, edge chunks)
//   gf_test_tool so-dump FILE             per dataset of so-write's file: every stored chunk's
//                                         size and checksum, then a checksum of the decoded values
//   gf_test_tool chunks FILE DATASET      every stored chunk of DATASET: offset, size, checksum
//   (these use genoforest's scale-offset codec unless GENOFOREST_H5_BUILTIN_SCALEOFFSET=1)
#include <htslib/bgzf.h>
#include <htslib/hts.h>
#include <htslib/kstring.h>
#include <htslib/sam.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <cstdio>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "genoforest/ml/model.hpp"
#include "genoforest/core/text.hpp"
#include "genoforest/features/store.hpp"
#include "genoforest/io/h5.hpp"
#include "genoforest/io/scaleoffset.hpp"
#include "genoforest/io/vcf.hpp"

namespace gf = genoforest;
namespace h5 = genoforest::io::h5;

namespace {
int fail(const std::string& msg) {
  std::cerr << "FAIL: " << msg << "\n";
  return 1;
}

int compare_vcf(const std::string& store_path, const std::string& vcf_path) {
  gf::features::StoreReader store(store_path);
  const auto chrom = h5::read_strings(store.file(), "variants/chrom");
  const auto pos = h5::read_vector<std::int64_t>(store.file(), "variants/pos");
  const auto ref = h5::read_strings(store.file(), "variants/ref");
  const auto alt = h5::read_strings(store.file(), "variants/alt");
  const auto all = store.rows(0, store.n_samples());
  const auto n = static_cast<std::size_t>(store.n_samples());
  const auto v = static_cast<std::size_t>(store.n_variants());

  htsFile* fp = hts_open(vcf_path.c_str(), "r");
  if (!fp) return fail("cannot open " + vcf_path);
  kstring_t line{0, 0, nullptr};
  std::size_t col = 0, checked = 0;
  while (hts_getline(fp, 2, &line) >= 0) {
    if (line.s[0] == '#') continue;
    const auto f = gf::split(std::string_view(line.s, line.l), '\t');
    if (f.size() != 9 + n) return fail("sample count differs from the store");
    const auto alts = gf::split(f[4], ',');
    for (std::size_t a = 1; a <= alts.size(); ++a, ++col) {
      if (col >= v) return fail("store has fewer columns than the VCF has ALT alleles");
      if (chrom[col] != f[0] || std::to_string(pos[col]) != f[1] || ref[col] != f[3] || alt[col] != alts[a - 1]) {
        return fail("variant row " + std::to_string(col) + " differs: " + chrom[col] + ":" + std::to_string(pos[col]));
      }
      for (std::size_t s = 0; s < n; ++s) {
        const std::string_view gt = gf::split(f[9 + s], ':')[0];
        int expect = 0;
        bool missing = false;
        std::string cur;
        for (std::size_t k = 0; k <= gt.size(); ++k) {
          if (k == gt.size() || gt[k] == '/' || gt[k] == '|') {
            if (cur == ".") missing = true;
            else if (std::stoul(cur) == a) ++expect;
            cur.clear();
          } else {
            cur += gt[k];
          }
        }
        const int got = all[s * v + col];
        if ((missing ? -1 : expect) != got) {
          return fail("dosage of sample " + std::to_string(s) + " at column " + std::to_string(col) + ": expected " +
                      std::to_string(missing ? -1 : expect) + ", store has " + std::to_string(got));
        }
        ++checked;
      }
    }
  }
  free(line.s);
  hts_close(fp);
  if (col != v) return fail("store has more columns than the VCF has ALT alleles");
  std::cout << "compare-vcf: " << v << " columns, " << checked << " dosages identical to a naive parse of " << vcf_path
            << "\n";
  return 0;
}

int check_hipster(const std::string& store_path) {
  gf::features::StoreReader store(store_path);
  if (store.n_samples() != 2504) return fail("expected 2504 samples, got " + std::to_string(store.n_samples()));
  const auto ids = h5::read_strings(store.file(), "variants/id");
  std::map<std::string, std::int64_t> col;
  for (std::size_t i = 0; i < ids.size(); ++i) col[ids[i]] = static_cast<std::int64_t>(i);
  std::map<std::string, std::vector<std::int8_t>> g;
  for (const char* rs : {"rs2218065", "rs1363387", "rs4410790", "rs4864809"}) {
    if (!col.count(rs)) return fail(std::string("variant ") + rs + " missing from the store");
    g[rs] = store.column(col[rs]);
  }
  const auto classes = h5::read_strings(store.file(), "labels/classes");
  const auto code = h5::read_vector<std::int32_t>(store.file(), "labels/code");
  if (classes != std::vector<std::string>{"0", "1"}) return fail("classes should be 0, 1");
  std::int64_t cases = 0;
  for (std::size_t i = 0; i < code.size(); ++i) {
    const double score = (2 + g["rs2218065"][i]) * (1.5 + g["rs1363387"][i]) + (0.5 + g["rs4410790"][i]) * (1 + g["rs4864809"][i]);
    const int label = score > 10 ? 1 : 0;
    if (label != code[i]) return fail("sample " + std::to_string(i) + ": score " + std::to_string(score) +
                                      " gives label " + std::to_string(label) + ", stored " + std::to_string(code[i]));
    cases += label;
  }
  std::cout << "check-hipster: 2504 samples, " << store.n_variants() << " columns, " << cases
            << " cases; every label reproduced from the stored dosages of the 4 causal SNPs\n";
  return 0;
}
}  // namespace

/// Local accuracy of explain's output against predict's: per sample, expected value + the sum of
/// the SHAP values gives the predicted probability (or value), through the logistic or softmax
/// for boosted margins, to the 6 decimals predict writes.
int check_shap(const std::string& shap, const std::string& pred) {
  namespace h5 = genoforest::io::h5;
  h5::Hid f(H5Fopen(shap.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), "cannot open " + shap);
  const auto ids = h5::read_strings(f, "samples/id");
  const auto expected = h5::read_vector<double>(f, "shap/expected_value");
  const auto dims = h5::dims(f, "shap/values");
  const std::string space = h5::read_attr_string(f, "output_space");
  const std::size_t n = dims.at(0), u = dims.at(1), k = dims.at(2);
  std::vector<float> v(n * u * k);
  h5::Hid d(H5Dopen2(f, "shap/values", H5P_DEFAULT), "open shap/values");
  h5::check(H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()), "read shap/values");
  std::map<std::string, std::vector<double>> predicted;
  std::ifstream in(pred);
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    const auto fl = genoforest::split(line, '\t');
    std::vector<double> p;
    for (std::size_t c = fl.size() == 2 ? 1 : 2; c < fl.size(); ++c) p.push_back(std::stod(std::string(fl[c])));
    predicted[std::string(fl[0])] = p;
  }
  double worst = 0;
  for (std::size_t i = 0; i < n; ++i) {
    std::vector<double> out(k);
    for (std::size_t q = 0; q < k; ++q) {
      out[q] = expected[q];
      for (std::size_t j = 0; j < u; ++j) out[q] += v[(i * u + j) * k + q];
    }
    std::vector<double> prob;
    if (space == "margin" && k == 1) {
      const double p1 = 1 / (1 + std::exp(-out[0]));
      prob = {1 - p1, p1};
    } else if (space == "margin") {
      double mx = *std::max_element(out.begin(), out.end()), s = 0;
      for (auto& o : out) s += (o = std::exp(o - mx));
      for (auto o : out) prob.push_back(o / s);
    } else {
      prob = out;
    }
    const auto it = predicted.find(ids[i]);
    if (it == predicted.end()) return fail("sample " + ids[i] + " is not in " + pred);
    if (it->second.size() != prob.size()) return fail("sample " + ids[i] + ": " + std::to_string(prob.size()) + " outputs against " + std::to_string(it->second.size()));
    for (std::size_t q = 0; q < prob.size(); ++q) worst = std::max(worst, std::fabs(prob[q] - it->second[q]));
  }
  std::cout << "check-shap: " << n << " samples, " << u << " variants, largest difference from predict " << worst << "\n";
  return worst < 2e-5 ? 0 : fail("SHAP values do not add up to the predictions (largest difference " + std::to_string(worst) + ")");
}

/// Two model files hold the same forest (trees, importances, OOB error, features); dates aside.
int same_model(const std::string& a, const std::string& b) {
  const auto x = genoforest::ml::load_model(a), y = genoforest::ml::load_model(b);
  const bool same_oob = x.oob_error == y.oob_error || (std::isnan(x.oob_error) && std::isnan(y.oob_error));
  bool same = x.trees.size() == y.trees.size() && same_oob && x.kind == y.kind && x.svm_weights == y.svm_weights &&
              x.svm_fill == y.svm_fill &&
              x.importance_impurity == y.importance_impurity && x.importance_permutation == y.importance_permutation &&
              x.variants.size() == y.variants.size();
  // Boosted trees: every node, values bit for bit.
  const auto &gx = x.gbt, &gy = y.gbt;
  same = same && gx.objective == gy.objective && gx.groups == gy.groups && gx.base_margin == gy.base_margin &&
         gx.best_rounds == gy.best_rounds && gx.validation_loss == gy.validation_loss && gx.trees.size() == gy.trees.size();
  for (std::size_t t = 0; same && t < gx.trees.size(); ++t) {
    const auto &p = gx.trees[t].nodes, &q = gy.trees[t].nodes;
    same = p.size() == q.size();
    for (std::size_t i = 0; same && i < p.size(); ++i) {
      same = p[i].feature == q[i].feature && p[i].left == q[i].left && p[i].right == q[i].right && p[i].threshold == q[i].threshold &&
             p[i].default_left == q[i].default_left && p[i].value == q[i].value && p[i].cover == q[i].cover;
    }
  }
  for (std::size_t t = 0; same && t < x.trees.size(); ++t) {
    const auto &p = x.trees[t], &q = y.trees[t];
    same = p.leaf_values == q.leaf_values && p.nodes.size() == q.nodes.size();
    for (std::size_t i = 0; same && i < p.nodes.size(); ++i) {
      same = p.nodes[i].feature == q.nodes[i].feature && p.nodes[i].left == q.nodes[i].left &&
             p.nodes[i].right == q.nodes[i].right && p.nodes[i].threshold == q.nodes[i].threshold &&
             p.nodes[i].missing_left == q.nodes[i].missing_left;
    }
  }
  std::cout << "same-model: " << (same ? "identical" : "different") << " (" << x.kind << ", "
            << (x.kind == "gbt" ? x.gbt.trees.size() : x.trees.size()) << " trees)\n";
  return same ? 0 : 1;
}

/// Primary alignment of each read: "contig pos strand cigar" by "name/1" or "name/2".
std::map<std::string, std::string> primary_alignments(const std::string& path) {
  samFile* fp = sam_open(path.c_str(), "r");
  if (!fp) throw std::runtime_error("cannot open " + path);
  sam_hdr_t* h = sam_hdr_read(fp);
  if (!h) throw std::runtime_error("cannot read the header of " + path);
  bam1_t* b = bam_init1();
  std::map<std::string, std::string> m;
  int r;
  while ((r = sam_read1(fp, h, b)) >= 0) {
    if (b->core.flag & (BAM_FSECONDARY | BAM_FSUPPLEMENTARY)) continue;
    std::string key = std::string(bam_get_qname(b)) + ((b->core.flag & BAM_FREAD2) ? "/2" : "/1");
    std::string v = "*";
    if (!(b->core.flag & BAM_FUNMAP)) {
      v = std::string(sam_hdr_tid2name(h, b->core.tid)) + " " + std::to_string(b->core.pos) + (bam_is_rev(b) ? " - " : " + ");
      for (uint32_t i = 0; i < b->core.n_cigar; ++i) {
        const uint32_t c = bam_get_cigar(b)[i];
        v += std::to_string(bam_cigar_oplen(c)) + bam_cigar_opchr(c);
      }
    }
    m[key] = v;
  }
  bam_destroy1(b);
  sam_hdr_destroy(h);
  sam_close(fp);
  if (r < -1) throw std::runtime_error("truncated or corrupt " + path);
  return m;
}

int dump_vcf(const std::string& path) {
  htsFile* fp = hts_open(path.c_str(), "r");
  if (!fp) {
    std::cerr << "cannot open " << path << "\n";
    return 1;
  }
  bcf_hdr_t* hdr = bcf_hdr_read(fp);
  kstring_t ks = KS_INITIALIZE;
  bcf_hdr_format(hdr, 0, &ks);
  const std::string text(ks.s, ks.l);
  for (const auto& line : gf::split(text, '\n')) {
    if (!line.empty() && line.rfind("##genoforest_callCommand=", 0) != 0) std::cout << line << "\n";
  }
  bcf1_t* rec = bcf_init();
  int ret;
  while ((ret = bcf_read(fp, hdr, rec)) == 0) {
    ks.l = 0;
    vcf_format(hdr, rec, &ks);
    std::cout << std::string(ks.s, ks.l);
  }
  ks_free(&ks);
  bcf_destroy(rec);
  bcf_hdr_destroy(hdr);
  hts_close(fp);
  return ret == -1 ? 0 : 1;
}

int dump_bam(const std::string& path, const std::string& ref) {
  samFile* fp = sam_open(path.c_str(), "r");
  if (!fp) return fail("cannot open " + path);
  if (!ref.empty() && hts_set_fai_filename(fp, ref.c_str()) != 0) return fail("cannot use " + ref);
  sam_hdr_t* h = sam_hdr_read(fp);
  if (!h) return fail("cannot read the header of " + path);
  bam1_t* b = bam_init1();
  kstring_t line = KS_INITIALIZE;
  int r;
  while ((r = sam_read1(fp, h, b)) >= 0) {
    if (sam_format1(h, b, &line) < 0) return fail("cannot format a record");
    std::fwrite(line.s, 1, line.l, stdout);
    std::fputc('\n', stdout);
  }
  ks_free(&line);
  bam_destroy1(b);
  sam_hdr_destroy(h);
  sam_close(fp);
  return r < -1 ? fail("truncated or corrupt " + path) : 0;
}

/// Prints the byte offset at which a BAM's records start: genoforest writes the header in blocks
/// of its own, so the bytes from there on can be compared between files whose @PG lines differ.
int bam_body(const std::string& path) {
  BGZF* fp = bgzf_open(path.c_str(), "r");
  if (!fp) return fail("cannot open " + path);
  sam_hdr_t* h = bam_hdr_read(fp);
  const std::int64_t v = bgzf_tell(fp);
  if (h) sam_hdr_destroy(h);
  bgzf_close(fp);
  if (!h) return fail("cannot read the header of " + path);
  if ((v & 0xffff) != 0) return fail(path + ": the header shares a block with records");
  std::cout << (v >> 16) << "\n";
  return 0;
}

int compare_primary(const std::string& a_path, const std::string& b_path, double min_fraction) {
  const auto a = primary_alignments(a_path), b = primary_alignments(b_path);
  std::size_t same = 0, shown = 0;
  for (const auto& [k, v] : a) {
    const auto it = b.find(k);
    if (it != b.end() && it->second == v) {
      ++same;
    } else if (shown++ < 5) {
      std::cerr << "differs: " << k << ": " << v << " vs " << (it == b.end() ? "(absent)" : it->second) << "\n";
    }
  }
  const double f = a.empty() ? 0.0 : static_cast<double>(same) / static_cast<double>(a.size());
  std::printf("%zu reads in A, %zu in B, %zu identical primary alignments (%.4f%%)\n", a.size(), b.size(), same, 100.0 * f);
  if (a.size() != b.size()) return fail("the two files hold different numbers of reads");
  if (f < min_fraction) return fail("agreement below " + std::to_string(min_fraction));
  return 0;
}

namespace {
// ---- scale-offset codec: the same chunks and values as libhdf5's own -------------------------
struct SoCase {
  const char* name;
  hid_t type;
  bool fill;                 // fill value defined (-1 or 255)
  hsize_t rows, cols;        // dataset shape; chunks are 64 x 100, so edges are partial
  int kind;                  // value pattern
};
const SoCase kSoCases[] = {
    {"dosage", H5T_STD_I8LE, true, 300, 1030, 0},     // -1..2, mostly 0
    {"all_fill", H5T_STD_I8LE, true, 64, 100, 1},     // every value the fill value
    {"wide", H5T_STD_I8LE, true, 130, 250, 2},        // the full -128..127 range
    {"span_7", H5T_STD_I8LE, false, 100, 100, 3},     // -60..60 without a fill value
    {"constant", H5T_STD_I8LE, false, 64, 100, 4},    // one value: minbits 0 without fill
    {"unsigned", H5T_STD_U8LE, true, 100, 333, 5},    // 10..25 and 255 (the fill value)
    {"one_bit", H5T_STD_I8LE, false, 64, 300, 6},     // 0/1 without a fill value: minbits 1
};

std::int8_t so_value(int kind, std::uint64_t i) {
  std::uint64_t h = i * 0x9E3779B97F4A7C15ULL;
  h ^= h >> 29;
  h *= 0xBF58476D1CE4E5B9ULL;
  h ^= h >> 32;
  switch (kind) {
    case 0: return static_cast<std::int8_t>(h % 10 == 0 ? -1 : static_cast<int>(h % 7 < 4 ? 0 : h % 7 < 6 ? 1 : 2));
    case 1: return -1;
    case 2: return static_cast<std::int8_t>(h & 0xff);
    case 3: return static_cast<std::int8_t>(static_cast<int>(h % 121) - 60);
    case 4: return 7;
    case 5: return static_cast<std::int8_t>(h % 9 == 0 ? 255 : 10 + h % 16);
    default: return static_cast<std::int8_t>(h & 1);
  }
}

int so_write(const std::string& path) {
  h5::Hid f(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), "cannot create " + path);
  for (const auto& c : kSoCases) {
    const hsize_t dims[2] = {c.rows, c.cols}, chunk[2] = {64, 100};
    h5::Hid space(H5Screate_simple(2, dims, nullptr), "dataspace");
    h5::Hid dcpl(H5Pcreate(H5P_DATASET_CREATE), "dcpl");
    h5::check(H5Pset_chunk(dcpl, 2, chunk), "chunk");
    h5::check(H5Pset_scaleoffset(dcpl, H5Z_SO_INT, H5Z_SO_INT_MINBITS_DEFAULT), "scaleoffset");
    // Values travel as bytes of the dataset's own type (no conversion): -1 is 255 unsigned.
    const hid_t mem = H5Tequal(c.type, H5T_STD_U8LE) > 0 ? H5T_NATIVE_UINT8 : H5T_NATIVE_INT8;
    const std::int8_t fill = -1;
    h5::check(H5Pset_fill_value(dcpl, mem, c.fill ? &fill : nullptr), "fill");
    h5::Hid d(H5Dcreate2(f, c.name, c.type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT), std::string("create ") + c.name);
    std::vector<std::int8_t> v(c.rows * c.cols);
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = so_value(c.kind, i);
    h5::check(H5Dwrite(d, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()), std::string("write ") + c.name);
  }
  return 0;
}

std::uint64_t fnv(const void* p, std::size_t n) {
  std::uint64_t h = 1469598103934665603ULL;
  for (std::size_t i = 0; i < n; ++i) h = (h ^ static_cast<const std::uint8_t*>(p)[i]) * 1099511628211ULL;
  return h;
}

/// Prints every stored chunk of dataset `name`: its offset, size and checksum.
void print_chunks(hid_t f, const char* name) {
  h5::Hid d(H5Dopen2(f, name, H5P_DEFAULT), std::string("open ") + name);
  h5::Hid space(H5Dget_space(d), "space");
  hsize_t nchunks = 0;
  h5::check(H5Dget_num_chunks(d, space, &nchunks), "chunks");
  for (hsize_t k = 0; k < nchunks; ++k) {
    hsize_t off[2];
    unsigned mask = 0;
    haddr_t addr = 0;
    hsize_t size = 0;
    h5::check(H5Dget_chunk_info(d, space, k, off, &mask, &addr, &size), "chunk info");
    std::vector<std::uint8_t> raw(size);
    std::uint32_t filters = 0;
    h5::check(H5Dread_chunk(d, H5P_DEFAULT, off, &filters, raw.data()), "read chunk");
    // With minbits 0 (one value, no fill value) libhdf5 stores one byte it never sets: skip it.
    if (raw.size() == 22 && raw[0] == 0 && raw[1] == 0 && raw[2] == 0 && raw[3] == 0) raw.resize(21);
    std::printf("%s chunk %llu,%llu: %llu bytes, fnv %016llx\n", name, static_cast<unsigned long long>(off[0]),
                static_cast<unsigned long long>(off[1]), static_cast<unsigned long long>(size),
                static_cast<unsigned long long>(fnv(raw.data(), raw.size())));
  }
}

int so_dump(const std::string& path) {
  h5::Hid f(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), "cannot open " + path);
  for (const auto& c : kSoCases) {
    print_chunks(f, c.name);
    h5::Hid d(H5Dopen2(f, c.name, H5P_DEFAULT), std::string("open ") + c.name);
    std::vector<std::int8_t> v(c.rows * c.cols);
    const hid_t mem = H5Tequal(c.type, H5T_STD_U8LE) > 0 ? H5T_NATIVE_UINT8 : H5T_NATIVE_INT8;
    h5::check(H5Dread(d, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()), std::string("read ") + c.name);
    std::size_t wrong = 0;
    for (std::size_t i = 0; i < v.size(); ++i) wrong += v[i] != so_value(c.kind, i);
    std::printf("%s values: fnv %016llx, %zu differ from what was written\n", c.name,
                static_cast<unsigned long long>(fnv(v.data(), v.size())), wrong);
    if (wrong) return fail(std::string(c.name) + ": decoded values differ from those written");
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  gf::io::quiet_htslib();
  gf::io::h5::mute_hdf5_errors();
  gf::io::h5::install_scaleoffset_codec();
  const std::vector<std::string> a(argv + 1, argv + argc);
  try {
    if (a.size() >= 2 && a[0] == "index") {
      const bool csi = a.size() > 2 && a[2] == "csi";
      gf::io::build_index(a[1], a[1] + (csi ? ".csi" : ".tbi"), csi, 1);
      return 0;
    }
    if (a.size() == 3 && a[0] == "compare-vcf") return compare_vcf(a[1], a[2]);
    if (a.size() == 2 && a[0] == "check-hipster") return check_hipster(a[1]);
    if (a.size() == 3 && a[0] == "same-model") return same_model(a[1], a[2]);
    if (a.size() == 2 && a[0] == "dump-vcf") return dump_vcf(a[1]);
    if (a.size() == 3 && a[0] == "check-shap") return check_shap(a[1], a[2]);
    if ((a.size() == 2 || a.size() == 3) && a[0] == "dump-bam") return dump_bam(a[1], a.size() == 3 ? a[2] : "");
    if (a.size() == 4 && a[0] == "compare-primary") return compare_primary(a[1], a[2], std::stod(a[3]));
    if (a.size() == 2 && a[0] == "bam-body") return bam_body(a[1]);
    if (a.size() == 3 && a[0] == "bam-index") {  // htslib's own index of a BAM, as samtools index makes it
      if (sam_index_build3(a[1].c_str(), a[2].c_str(), 0, 1) < 0) return fail("cannot index " + a[1]);
      return 0;
    }
    if (a.size() == 2 && a[0] == "so-write") return so_write(a[1]);
    if (a.size() == 2 && a[0] == "so-dump") return so_dump(a[1]);
    if (a.size() == 3 && a[0] == "chunks") {
      h5::Hid f(H5Fopen(a[1].c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), "cannot open " + a[1]);
      print_chunks(f, a[2].c_str());
      return 0;
    }
    if (a.size() == 4 && a[0] == "chunk-address") {  // where chunk K of a dataset lies: "ADDRESS SIZE"
      h5::Hid f(H5Fopen(a[1].c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), "cannot open " + a[1]);
      h5::Hid d(H5Dopen2(f, a[2].c_str(), H5P_DEFAULT), "open " + a[2]);
      h5::Hid space(H5Dget_space(d), "space");
      hsize_t off[2] = {0, 0}, size = 0;
      unsigned mask = 0;
      haddr_t addr = 0;
      h5::check(H5Dget_chunk_info(d, space, std::stoull(a[3]), off, &mask, &addr, &size), "chunk info");
      std::printf("%llu %llu\n", static_cast<unsigned long long>(addr), static_cast<unsigned long long>(size));
      return 0;
    }
    if (a.size() == 5 && a[0] == "set-int32") {  // damages a store: one entry of a 1-D int32 dataset
      h5::Hid f(H5Fopen(a[1].c_str(), H5F_ACC_RDWR, H5P_DEFAULT), "cannot open " + a[1]);
      h5::Hid d(H5Dopen2(f, a[2].c_str(), H5P_DEFAULT), "open " + a[2]);
      h5::Hid space(H5Dget_space(d), "space");
      const hsize_t at = std::stoull(a[3]), one = 1;
      h5::check(H5Sselect_hyperslab(space, H5S_SELECT_SET, &at, nullptr, &one, nullptr), "select");
      h5::Hid mem(H5Screate_simple(1, &one, nullptr), "memory space");
      const std::int32_t v = std::stoi(a[4]);
      h5::check(H5Dwrite(d, H5T_NATIVE_INT32, mem, space, H5P_DEFAULT, &v), "write " + a[2]);
      return 0;
    }
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  std::cerr << "usage: gf_test_tool set-int32 FILE DATASET INDEX VALUE | index FILE [csi] | compare-vcf STORE VCF | check-hipster STORE | same-model A B | dump-vcf FILE | dump-bam FILE [REF] | compare-primary A B MIN | bam-body FILE | bam-index BAM OUT | so-write FILE | so-dump FILE | chunks FILE DATASET | chunk-address FILE DATASET K\n";
  return 2;
}
