#include "tests/bench/streaming_flags.h"

#include "absl/flags/flag.h"

ABSL_FLAG(std::string, cases, "exact,fcs",
          "Comma-separated cases to run: exact (--taxa, exact TV) and fcs "
          "(--large_taxa, sampled FCS).");
ABSL_FLAG(std::string, taxa,
          "Tarsius_syrichta;Lemur_catta;Homo_sapiens;Pan;Gorilla;Pongo;"
          "Hylobates",
          "Taxa of the exact case (at most 8: every rooted tree is "
          "enumerated). Default: the first 7 of primates.nex, 10,395 trees.");
ABSL_FLAG(std::string, large_taxa,
          "Tarsius_syrichta;Lemur_catta;Homo_sapiens;Pan;Gorilla;Pongo;"
          "Hylobates;Macaca_fuscata;M_mulatta;M_fascicularis;M_sylvanus;"
          "Saimiri_sciureus",
          "Taxa of the fcs case. Default: all 12 of primates.nex "
          "(1.4e10 rooted trees).");
ABSL_FLAG(std::string, alignment, "common/env/phylo/testdata/primates.nex",
          "Alignment whose sites are cut into the blocks (relative paths "
          "name files of the workspace).");
ABSL_FLAG(double, temperature, 20,
          "JC69 reward temperature (the streaming accuracy test's).");
ABSL_FLAG(int, updates, 5, "Streaming updates U; the sites make 1 + U blocks.");
ABSL_FLAG(int64_t, first_iterations, 2000,
          "Iterations of the first model (block 0) and the least a "
          "retraining gets.");
ABSL_FLAG(int64_t, first_curve_every, 0,
          "Measure the first model every this many iterations (its curve: "
          "has its budget reached the plateau?); 0: only at the end.");
ABSL_FLAG(int64_t, update_iterations, 500,
          "Iterations of each streaming update (warm-started).");
ABSL_FLAG(int64_t, batch_size, 128, "Trajectories per iteration, all runs.");
ABSL_FLAG(double, learning_rate, 5e-4, "Adam learning rate, all runs.");
ABSL_FLAG(double, epsilon, 0.05, "Uniform exploration while training.");
ABSL_FLAG(int64_t, hidden_width, 128, "Policy MLP width (2 layers).");
ABSL_FLAG(int64_t, retrain_chunk, 100,
          "Retraining iterations between two measurements.");
ABSL_FLAG(int64_t, retrain_max_iterations, 6000,
          "Cap on a retraining's iterations.");
ABSL_FLAG(double, tolerance, 0.01,
          "Retraining counts as reaching the streaming model's accuracy when "
          "its TV (FCS) is within this of the streaming model's.");
ABSL_FLAG(int64_t, diagnostics_trajectories, 4096,
          "Trajectories of the update's (alpha, beta) diagnostics.");
ABSL_FLAG(int64_t, fcs_samples, 1024, "FCS pool draws (fcs case).");
ABSL_FLAG(int64_t, fcs_subsets, 256,
          "FCS subsets of 8 per measurement (fcs case), every measurement.");
ABSL_FLAG(int, final_fcs_repeats, 1,
          "The figures the comparison rests on (the first model, each "
          "streaming model, the retraining at the first model's budget) are "
          "the mean of this many FCS measurements on independent pools, "
          "printed with their standard error; 1: a single measurement, as "
          "every chunk's.");
ABSL_FLAG(int64_t, final_fcs_subsets, 256,
          "FCS subsets of 8 per pool of those final figures.");
ABSL_FLAG(int, fcs_noise_repeats, 0,
          "Measure the first model this many times on independent pools, "
          "with the per-chunk and with the final settings, and print the "
          "spread (the noise of one FCS figure of one fixed model); 0: off.");
ABSL_FLAG(epgfn::LearningRateSchedule, first_lr_schedule,
          epgfn::LearningRateSchedule::kConstant,
          "Learning-rate schedule of the trainings from scratch (the first "
          "model and each retraining, so that the comparison stays fair): "
          "constant, linear or cosine, decaying over the run's iterations "
          "(--first_iterations, --retrain_max_iterations) to "
          "--first_lr_floor times --learning_rate.");
ABSL_FLAG(double, first_lr_floor, 0.1,
          "Where --first_lr_schedule ends, as a fraction of the rate.");
ABSL_FLAG(std::string, update_lr_schedule, "constant",
          "Learning-rate schedule of each streaming update: constant, linear "
          "or cosine (decay to --update_lr_floor times --learning_rate).");
ABSL_FLAG(double, update_lr_floor, 0.1,
          "Last iteration's learning rate of a decaying update, as a fraction "
          "of --learning_rate.");
ABSL_FLAG(double, update_replay_fraction, 0.0,
          "Share of each update batch sampled from the frozen previous model "
          "itself (StreamingUpdateOptions::replay_fraction).");
ABSL_FLAG(std::string, update_variants, "",
          "Comma-separated update variants SCHEDULE:REPLAY (e.g. "
          "constant:0,cosine:0,constant:0.25), each run for all the updates "
          "from the same first model; empty: the one variant of "
          "--update_lr_schedule and --update_replay_fraction.");
ABSL_FLAG(bool, retrain, true,
          "Retrain from scratch after each update; false: the streaming "
          "models alone (their figures do not depend on the retraining).");
ABSL_FLAG(uint64_t, seed, 0, "Seed of every initialisation and training.");
ABSL_FLAG(int, threads, 1, "Intra-op threads (set explicitly).");
