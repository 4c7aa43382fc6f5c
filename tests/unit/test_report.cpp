// The report's sections, each on a tiny run folder written here, against values worked by hand or
// by a naive computation in the test.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "genoforest/core/error.hpp"
#include "genoforest/features/store.hpp"
#include "genoforest/io/h5.hpp"
#include "genoforest/report/report.hpp"
#include "temp_dir.hpp"

namespace gf = genoforest;
namespace rep = genoforest::report;
namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

/// A run report naming `stages` (JSON objects of stage, status, options).
void write_run(const fs::path& dir, const std::string& stages) {
  write(dir / "genoforest-run.json", R"({"genoforest": "0.1.0", "config": "/x/run.ini", "run_dir": "/x", "command_line": "genoforest run --config run.ini",
 "ranks": 2, "status": "finished", "wall_s": 12.5, "stages": [)" + stages + "]}");
}

const rep::Plot* plot(const rep::Section& s, const std::string& id) {
  for (const auto& p : s.plots)
    if (p.id == id) return &p;
  return nullptr;
}

Json data_of(const rep::Plot& p) {
  const Json s = Json::parse(p.spec);
  if (s.contains("data")) return s["data"]["values"];
  for (const auto& l : s["layer"])
    if (l.contains("data") && l["data"]["values"].size() > 2) return l["data"]["values"];
  return Json::array();
}

class Report : public TempDir {};

}  // namespace

TEST_F(Report, RunSectionListsTheStagesTheirTimesMemoryAndCommandLines) {
  write_run(dir_, R"({"stage": "features", "status": "up to date", "wall_s": 3.5, "tasks_run": 0, "tasks_resumed": 0, "peak_rss_bytes_per_rank": [],
                       "options": [["input", "my cohort.vcf.gz"], ["output", "s.h5"]]},
                      {"stage": "train", "status": "ran", "wall_s": 1.25, "tasks_run": 10, "tasks_resumed": 2, "peak_rss_bytes_per_rank": [1048576, 2097152],
                       "options": [["input", "s.h5"], ["trees", "10"], ["balanced", "true"]]})");
  const auto run = rep::read_run(dir_);
  ASSERT_EQ(run.stages.size(), 2u);
  EXPECT_EQ(run.stage("train")->option("trees"), "10");
  EXPECT_EQ(run.path("s.h5"), dir_ / "s.h5");
  const auto s = rep::run_section(run);
  ASSERT_TRUE(s);
  EXPECT_NE(s->html.find("genoforest features --input &#39;my cohort.vcf.gz&#39; --output s.h5"), std::string::npos) << s->html;
  EXPECT_NE(s->html.find("genoforest train --input s.h5 --trees 10 --balanced\n"), std::string::npos);
  EXPECT_NE(s->html.find("<td class=\"num\">2.0</td>"), std::string::npos) << "largest rank's peak RSS in MiB";
  const auto* wall = plot(*s, "run-wall");
  ASSERT_TRUE(wall);
  ASSERT_EQ(data_of(*wall).size(), 2u);
  EXPECT_DOUBLE_EQ(data_of(*wall)[1]["wall_s"].get<double>(), 1.25);
  const auto* mem = plot(*s, "run-memory");
  ASSERT_TRUE(mem);
  EXPECT_EQ(data_of(*mem).size(), 2u) << "one point per rank of the stage that ran";
}

TEST_F(Report, ReadsSectionFollowsTheBamListAndWritesMultiQcCustomContent) {
  write_run(dir_, R"({"stage": "align", "status": "ran", "wall_s": 1, "options": [["output-dir", "bams"]]})");
  write(dir_ / "bams/bams.list", "bams/B.bam\nbams/A.bam\n");
  auto qc = [](const std::string& id, int in, int out, double mapped) {
    return R"({"sample": ")" + id + R"(", "qc": {"reads_in": )" + std::to_string(in) + R"(, "reads_out": )" + std::to_string(out) +
           R"(, "q30_fraction_in": 0.9, "quality_trimmed_bases": 10, "adapter_trimmed_bases": 5},
              "alignment": {"mapped_fraction": )" + std::to_string(mapped) + R"(, "properly_paired_fraction": 0.5, "duplicate_fraction": 0.25, "insert_size_median": 350}})";
  };
  write(dir_ / "bams/A.qc.json", qc("A", 100, 90, 0.75));
  write(dir_ / "bams/B.qc.json", qc("B", 200, 200, 1.0));
  const auto s = rep::reads_section(rep::read_run(dir_));
  ASSERT_TRUE(s);
  EXPECT_LT(s->html.find(">B<"), s->html.find(">A<")) << "sheet order, from bams.list";
  const Json m = Json::parse(s->multiqc);
  EXPECT_EQ(m["plot_type"], "table");
  EXPECT_EQ(m["data"]["A"]["reads_in"], 100);
  EXPECT_DOUBLE_EQ(m["data"]["A"]["mapped_pct"].get<double>(), 75.0);
  EXPECT_DOUBLE_EQ(m["data"]["B"]["trimmed_bases"].get<double>(), 15.0);
  EXPECT_DOUBLE_EQ(m["data"]["B"]["insert_size_median"].get<double>(), 350.0);
  const auto* counts = plot(*s, "reads-counts");
  ASSERT_TRUE(counts);
  EXPECT_DOUBLE_EQ(data_of(*counts)[1]["reads_removed"].get<double>(), 10.0);
  EXPECT_TRUE(plot(*s, "reads-mapping") && plot(*s, "reads-insert"));
}

TEST_F(Report, CallsSectionCountsGenotypesTiTvSiteTypesAndFilters) {
  write_run(dir_, R"({"stage": "call", "status": "ran", "wall_s": 1, "options": [["output", "calls.vcf"]]})");
  write(dir_ / "calls.vcf",
        "##fileformat=VCFv4.2\n##contig=<ID=chr1,length=1000>\n##FILTER=<ID=LowQual,Description=\"low\">\n"
        "##FORMAT=<ID=GT,Number=1,Type=String,Description=\"g\">\n##FORMAT=<ID=DP,Number=1,Type=Integer,Description=\"d\">\n"
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\tS2\tS3\n"
        "chr1\t10\t.\tA\tG\t50\tPASS\t.\tGT:DP\t0/1:4\t1/1:6\t./.:0\n"        // transition
        "chr1\t20\t.\tA\tC\t50\tPASS\t.\tGT:DP\t0/0:2\t0/1:2\t0|1:8\n"        // transversion
        "chr1\t30\t.\tA\tAT\t5\tLowQual\t.\tGT:DP\t1/1:3\t0/0:3\t0/1:.\n"     // indel
        "chr1\t40\t.\tAC\tGT\t50\tPASS\t.\tGT:DP\t0/0:1\t0/0:1\t0/0:1\n");    // MNP
  const auto s = rep::calls_section(rep::read_run(dir_));
  ASSERT_TRUE(s);
  const Json m = Json::parse(s->multiqc);
  const auto& s1 = m["data"]["S1"];
  EXPECT_EQ(s1["het"], 1);
  EXPECT_EQ(s1["hom_alt"], 1);
  EXPECT_EQ(s1["called"], 4);
  EXPECT_DOUBLE_EQ(s1["mean_depth"].get<double>(), 10.0 / 4);
  EXPECT_TRUE(s1["titv"].is_null()) << "one transition, no transversion";
  const auto& s2 = m["data"]["S2"];
  EXPECT_EQ(s2["het"], 1);
  EXPECT_EQ(s2["hom_alt"], 1);
  EXPECT_DOUBLE_EQ(s2["titv"].get<double>(), 1.0);
  const auto& s3 = m["data"]["S3"];
  EXPECT_EQ(s3["missing"], 1);
  EXPECT_EQ(s3["het"], 2);
  EXPECT_DOUBLE_EQ(s3["mean_depth"].get<double>(), 9.0 / 3) << "a '.' depth is not a zero";
  Json types = data_of(*plot(*s, "calls-types")), filters = data_of(*plot(*s, "calls-filter"));
  std::map<std::string, int> t, f;
  for (const auto& r : types) t[r["type"]] = r["records"];
  for (const auto& r : filters) f[r["filter"]] = r["records"];
  EXPECT_EQ(t, (std::map<std::string, int>{{"MNP", 1}, {"SNV", 2}, {"indel", 1}}));
  EXPECT_EQ(f, (std::map<std::string, int>{{"LowQual", 1}, {"PASS", 3}}));
}

TEST_F(Report, StoreSectionGivesSpectraMissingnessAndPopulations) {
  write_run(dir_, R"({"stage": "features", "status": "ran", "wall_s": 1, "options": [["output", "s.h5"]]})");
  {
    namespace h5 = gf::io::h5;
    h5::Hid f(H5Fcreate((dir_ / "s.h5").c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), "create");
    h5::write_attr(f, "format", std::string(gf::features::schema::kFormat));
    h5::write_attr(f, "schema_version", gf::features::schema::kVersion);
    for (const char* g : {"variants", "samples", "sample_stats", "labels", "provenance"})
      h5::Hid(H5Gcreate2(f, g, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), g);
    gf::features::StoreLayout layout;
    (void)gf::features::create_dosage_dataset(f, 3, layout);
    h5::write_vector<double>(f, "variants/af", {0.11, 0.89, 0.45, NAN});
    h5::write_vector<double>(f, "variants/call_rate", {1.0, 0.5, 1.0, 0.0});
    h5::write_vector<std::int8_t>(f, "variants/type", {0, 0, 1, 2});
    h5::write_vector<std::int64_t>(f, "sample_stats/n_called", {4, 3, 2});
    h5::write_vector<std::int64_t>(f, "sample_stats/n_missing", {0, 1, 2});
    h5::write_vector<std::int64_t>(f, "sample_stats/n_het", {2, 1, 0});
    h5::write_vector<std::int64_t>(f, "sample_stats/n_hom_alt", {0, 1, 1});
    h5::write_vector<double>(f, "sample_stats/titv", {2.0, NAN, 1.0});
    h5::write_strings(f, "samples/population", {"EUR", "EUR", "AFR"});
    h5::Hid labels(H5Gopen2(f, "labels", H5P_DEFAULT), "labels");
    h5::write_attr(labels, "type", std::string("class"));
    h5::write_strings(labels, "classes", {"ctrl", "case"});
    h5::write_vector<std::int32_t>(labels, "code", {0, 1, -1});
    h5::Hid prov(H5Gopen2(f, "provenance", H5P_DEFAULT), "provenance");
    h5::write_attr(prov, "filters", std::string("min-maf=0.01"));
  }
  const auto s = rep::store_section(rep::read_run(dir_));
  ASSERT_TRUE(s);
  EXPECT_NE(s->html.find("SNV 2, indel 1, other 1"), std::string::npos) << s->html;
  // EUR: het rates 2/4 and 1/3, missing 0 and 1/4; one case, one control. AFR: no label.
  EXPECT_NE(s->html.find("<td>EUR</td><td class=\"num\">2</td><td class=\"num\">0.4167</td><td class=\"num\">0.1667</td><td class=\"num\">0.1250</td><td class=\"num\">2.000</td><td class=\"num\">1</td><td class=\"num\">1</td>"),
            std::string::npos) << s->html;
  const Json afs = data_of(*plot(*s, "store-afs"));
  long long total = 0, first_bin = 0;
  for (const auto& b : afs) total += b["count"].get<long long>();
  first_bin = afs[0]["count"];
  EXPECT_EQ(total, 3) << "a column with no call has no frequency";
  EXPECT_EQ(afs.size(), 25u);
  EXPECT_EQ(first_bin, 0);
  EXPECT_EQ(afs[5]["count"], 2) << "MAF 0.11 twice (0.11 and 1 - 0.89), in [0.10, 0.12)";
  const Json vm = data_of(*plot(*s, "store-variant-missing"));
  EXPECT_EQ(vm[0]["count"], 2);
  EXPECT_EQ(vm.back()["count"], 1);
}

TEST_F(Report, StructureSectionColoursByPopulationAndClusterAndDrawsTheScree) {
  write_run(dir_, R"({"stage": "pca", "status": "ran", "wall_s": 1, "options": [["input", "s.h5"], ["output", "p"]]},
                      {"stage": "cluster", "status": "ran", "wall_s": 1, "options": [["output", "p"]]})");
  write(dir_ / "p.eigenvec", "#IID\tpopulation\tPC1\tPC2\tPC3\n s1\tEUR\t0.5\t-0.5\t0.1\ns/2\t\t-0.5\t0.5\t0.2\n");
  write(dir_ / "p.eigenval", "3.5\n1.25\n0.5\n");
  write(dir_ / "p.clusters.tsv", "sample_id\tcluster\tpopulation\tlabel\ns/2\t2\t\t1\n");
  const auto s = rep::structure_section(rep::read_run(dir_));
  ASSERT_TRUE(s);
  EXPECT_TRUE(plot(*s, "pca-pc1-pc2-population") && plot(*s, "pca-pc1-pc2-cluster"));
  EXPECT_FALSE(plot(*s, "pca-pc3-pc4-population")) << "3 PCs: no PC3/PC4 pair";
  const Json d = data_of(*plot(*s, "pca-pc1-pc2-cluster"));
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[1]["sample"], "s/2");
  EXPECT_EQ(d[1]["population"], "(unknown)");
  EXPECT_EQ(d[1]["cluster"], "2");
  EXPECT_EQ(d[0]["cluster"], "(none)");
  EXPECT_DOUBLE_EQ(d[1]["PC2"].get<double>(), 0.5);
  const Json scree = data_of(*plot(*s, "pca-scree"));
  ASSERT_EQ(scree.size(), 3u);
  EXPECT_DOUBLE_EQ(scree[1]["eigenvalue"].get<double>(), 1.25);
}

TEST_F(Report, RocCurvesGiveTheRankSumAucOfEachFold) {
  write_run(dir_, R"({"stage": "train", "status": "ran", "wall_s": 1, "options": [["output", "m.gfm"]]},
                      {"stage": "cv", "status": "ran", "wall_s": 1, "options": [["output", "cv.json"], ["predictions", "p.tsv"]]})");
  write(dir_ / "cv.json", R"({"task": "classification", "folds": 2, "repeats": 1, "samples": 8, "features": 3, "classes": ["ctrl", "case"],
    "summary": {"accuracy": {"mean": 0.75, "sd": 0.1}}, "confusion": [[3, 1], [1, 3]],
    "per_fold": [{"repeat": 1, "fold": 1, "accuracy": 0.75, "per_class": {}}, {"repeat": 1, "fold": 2, "accuracy": 0.75}]})");
  // Fold 1: scores with a tie across the classes; fold 2: perfectly ranked.
  const std::vector<std::tuple<int, std::string, double>> p = {{1, "case", 0.9}, {1, "ctrl", 0.6}, {1, "case", 0.6}, {1, "ctrl", 0.2},
                                                               {2, "case", 0.8}, {2, "case", 0.7}, {2, "ctrl", 0.3}, {2, "ctrl", 0.1}};
  std::string tsv = "sample_id\trepeat\tfold\ttruth\tpredicted\tprob_ctrl\tprob_case\n";
  for (std::size_t i = 0; i < p.size(); ++i) {
    const auto& [fold, truth, score] = p[i];
    tsv += "s" + std::to_string(i) + "\t1\t" + std::to_string(fold) + "\t" + truth + "\t" + (score > 0.5 ? "case" : "ctrl") + "\t" +
           std::to_string(1 - score) + "\t" + std::to_string(score) + "\n";
  }
  write(dir_ / "p.tsv", tsv);
  write(dir_ / "m.gfm.importance.tsv",
        "chrom\tpos\tid\tref\talt\timportance\timpurity_importance\nchr10\t5\t.\tA\tG\t0.5\t0.1\nchr2\t7\trs7\tC\tT\t0.25\t0.2\ncovariates\t.\tAGE\t.\t.\t0.1\t0.1\n");
  const auto s = rep::model_section(rep::read_run(dir_));
  ASSERT_TRUE(s);
  ASSERT_TRUE(plot(*s, "model-roc"));
  // The oracle: AUC = P(score of a case > score of a control) + P(tie) / 2.
  for (int fold = 1; fold <= 2; ++fold) {
    double pairs = 0, wins = 0;
    for (const auto& [fa, ta, sa] : p)
      for (const auto& [fb, tb, sb] : p)
        if (fa == fold && fb == fold && ta == "case" && tb == "ctrl") {
          pairs += 1;
          wins += sa > sb ? 1.0 : sa == sb ? 0.5 : 0.0;
        }
    char label[64];
    std::snprintf(label, sizeof label, "fold %d (AUC %.3f)", fold, wins / pairs);
    EXPECT_NE(plot(*s, "model-roc")->spec.find(label), std::string::npos) << label;
  }
  EXPECT_NE(plot(*s, "model-roc")->spec.find("mean (AUC "), std::string::npos);
  EXPECT_TRUE(plot(*s, "model-confusion"));
  // Manhattan: chr2 before chr10, the covariate in the table only.
  const Json m = data_of(*plot(*s, "model-manhattan"));
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0]["variant"], "chr10:5");
  EXPECT_EQ(m[1]["variant"], "chr2:7 rs7");
  EXPECT_LT(m[1]["x"].get<double>(), m[0]["x"].get<double>()) << "natural contig order";
  EXPECT_NE(s->html.find("covariates/AGE"), std::string::npos);
  EXPECT_NE(s->html.find("0.7500 ± 0.1000"), std::string::npos) << "mean and sd row";
}

TEST_F(Report, SectionsTheRunDidNotProduceAreLeftOut) {
  write_run(dir_, R"({"stage": "cv", "status": "ran", "wall_s": 1, "options": [["output", "cv.json"]]})");
  write(dir_ / "cv.json", R"({"task": "quantitative", "folds": 2, "per_fold": [{"repeat": 1, "fold": 1, "rmse": 0.5}]})");
  const auto run = rep::read_run(dir_);
  EXPECT_FALSE(rep::reads_section(run));
  EXPECT_FALSE(rep::calls_section(run));
  EXPECT_FALSE(rep::store_section(run));
  EXPECT_FALSE(rep::structure_section(run));
  const auto m = rep::model_section(run);
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->plots.empty()) << "no predictions, no importances: a table only";
  EXPECT_NE(m->html.find("predictions = FILE"), std::string::npos) << "says how to get the ROC curves";
  const auto all = rep::all_sections(run);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].id, "run");
  EXPECT_EQ(all[1].id, "model");
}

TEST_F(Report, AFolderWithoutARunOrWithADamagedRunReportIsRefusedNamingIt) {
  EXPECT_THROW((void)rep::read_run(dir_), gf::InputError);
  write(dir_ / "genoforest-run.json", "{\"stages\": [{\"status\": 1}]}");
  try {
    (void)rep::read_run(dir_);
    FAIL() << "accepted a run report without stage names";
  } catch (const gf::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("genoforest-run.json"), std::string::npos) << e.what();
  }
}

TEST_F(Report, PageKeepsDataOutOfTheMarkupAndInlinesTheLibrary) {
  write_run(dir_, "");
  const auto run = rep::read_run(dir_);
  rep::Section s{"x", "X <&>", "<p>ok</p>", {{"p1", "T", R"({"data": {"values": [{"sample": "</script><script>alert(1)</script>"}]}, "mark": "point"})"}}, ""};
  const std::string page = rep::render_html(run, {s});
  EXPECT_EQ(page.find("<script>alert"), std::string::npos);
  EXPECT_NE(page.find("\\u003c/script\\u003e\\u003cscript\\u003ealert(1)"), std::string::npos);
  EXPECT_NE(page.find("X &lt;&amp;&gt;"), std::string::npos);
  std::size_t scripts = 0;
  for (std::size_t at = page.find("<script"); at != std::string::npos; at = page.find("<script", at + 1)) ++scripts;
  EXPECT_EQ(scripts, 4u) << "the plot's JSON, Vega, Vega-Lite and the renderer";
  EXPECT_NE(page.find("vega-lite"), std::string::npos);
  EXPECT_GT(page.size(), 500000u) << "Vega and Vega-Lite are inlined";
  EXPECT_EQ(page.find("src=\"http"), std::string::npos) << "no script is loaded from the network";
}
