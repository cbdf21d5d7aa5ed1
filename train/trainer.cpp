#include "train/input_record.hpp"
#include "train/trainer.hpp"

#include "train/run_folder.hpp"

#include "autodiff/parallel.hpp"
#include "datasets/batch_loader.hpp"
#include "geometry/circular_stats.hpp"
#include "nn/adam.hpp"
#include "nn/dist/global_batch.hpp"
#include "nn/dist/gradient_average.hpp"
#include "nn/grad_clip.hpp"
#include "nn/io/atomic_file.hpp"
#include "nn/io/safetensors.hpp"
#include "nn/koleo.hpp"
#include "nn/lr_schedule.hpp"
#include "nn/matryoshka.hpp"
#include "nn/sgd.hpp"
#include "nn/supcon.hpp"
#include "train/data_source.hpp"
#include "train/elapsed.hpp"
#include "train/embedding.hpp"
#include "train/eval/evaluated_space.hpp"
#include "train/model_factory.hpp"
#include "train/nonfinite.hpp"
#include "train/plot.hpp"
#include "train/run_log.hpp"
#include "train/training_state.hpp"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <functional>
#include <optional>
#include <sstream>

namespace torus::train {

namespace fs = std::filesystem;

namespace {
std::unique_ptr<nn::Optimizer<float>> make_optimizer(const TrainConfig& c, const nn::NamedParameters<float>& params) {
  if (c.optimizer == "sgd") return std::make_unique<nn::Sgd<float>>(params, nn::SgdOptions{c.lr, c.momentum, c.nesterov, c.weight_decay});
  nn::AdamOptions a;
  a.lr = c.lr;
  a.beta1 = c.beta1;
  a.beta2 = c.beta2;
  a.weight_decay = c.weight_decay;
  a.decoupled = c.optimizer == "adamw";
  return std::make_unique<nn::Adam<float>>(params, a);
}

nlohmann::json optimizer_info(const TrainConfig& c) {
  return {{"name", c.optimizer}, {"lr", c.lr}, {"momentum", c.momentum}, {"nesterov", c.nesterov},
          {"weight_decay", c.weight_decay}, {"beta1", c.beta1}, {"beta2", c.beta2}};
}

nn::LrSchedule make_schedule(const TrainConfig& c) {
  nn::LrSchedule s;
  s.kind = nn::LrSchedule::parse_kind(c.schedule);
  s.base = c.lr;
  s.floor = c.lr_floor;
  s.total = std::max<int64_t>(1, c.epochs - c.warmup);
  s.step_size = c.step_size;
  s.gamma = c.gamma;
  s.warmup = c.warmup;
  std::stringstream ss(c.milestones);
  std::string item;
  while (std::getline(ss, item, ',')) {
    char* end = nullptr;
    const long long m = std::strtoll(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || m < 0 || (!s.milestones.empty() && m <= s.milestones.back()))
      throw ConfigError("optim.milestones: expected increasing non-negative epochs separated by commas, got \"" +
                        c.milestones + "\"");
    s.milestones.push_back(m);
  }
  return s;
}

// What the held-out samples are, for the plots' titles.
std::string held_out_samples(const Dataset& data) {
  return data.queries.is_images ? "held-out images" : data.queries.is_audio ? "held-out clips" : "held-out feature vectors";
}

// The scatter of two chosen circles (torusN angles, torusC coordinates) or, for the other heads,
// two coordinates mapped from [-1, 1] onto [0, 1).
void write_scatter(const std::string& path, const TrainConfig& c, nn::HeadMode mode, const eval::RowMatrix& z,
                   const Dataset& data) {
  const bool torus = mode == nn::HeadMode::torusN || mode == nn::HeadMode::torusC;
  const eval::RowMatrix u = torus ? eval::torus_angles(z, mode) : z;
  const int64_t circle_y = plot_circle_y(c);
  std::vector<float> x(size_t(u.rows())), y(size_t(u.rows()));
  for (Eigen::Index i = 0; i < u.rows(); ++i) {
    x[size_t(i)] = torus ? u(i, c.circle_x) : 0.5f * (u(i, c.circle_x) + 1);
    y[size_t(i)] = torus ? u(i, circle_y) : 0.5f * (u(i, circle_y) + 1);
  }
  const std::string what = torus ? "circle " : "coordinate ";
  const std::string unit = torus ? " (turns)" : " ((z + 1) / 2)";
  const std::string title = std::string(nn::head_mode_name(mode)) + " embeddings of the " + held_out_samples(data) +
                            (torus ? " on the flat torus" : "");
  write_torus_scatter(path, title, what + std::to_string(c.circle_x) + unit, what + std::to_string(circle_y) + unit, x,
                      y, data.queries.labels(), data.class_names);
}

// The torus heads' angle histograms, one panel per circle.
void write_angles(const std::string& path, nn::HeadMode mode, const eval::RowMatrix& z, const Dataset& data) {
  write_angle_histograms(path, std::string(nn::head_mode_name(mode)) + " angles of the " + held_out_samples(data) +
                                   ", per circle", eval::torus_angles(z, mode));
}

void write_curves(const std::string& dir, const std::vector<EpochMetrics>& rows, const Dataset& data) {
  Curve loss{"loss", {}, {}}, supcon{"SupCon", {}, {}}, koleo{"KoLeo (unweighted)", {}, {}}, p1{"", {}, {}}, circvar{"", {}, {}};
  bool any_koleo = false;
  for (const auto& r : rows) {
    for (Curve* cv : {&loss, &supcon, &koleo, &p1, &circvar}) cv->x.push_back(double(r.epoch));
    loss.y.push_back(r.loss);
    supcon.y.push_back(r.supcon);
    koleo.y.push_back(r.koleo);
    p1.y.push_back(r.precision_at_1);
    circvar.y.push_back(r.circular_variance);
    any_koleo = any_koleo || r.koleo != 0;
  }
  // Without KoLeo the loss is SupCon: one curve, named by the axis alone.
  std::vector<Curve> losses = {loss};
  if (any_koleo) losses.insert(losses.end(), {supcon, koleo});
  else losses[0].name.clear();
  LinePlot per_epoch;
  per_epoch.x_label = "epoch";
  per_epoch.integer_x = true;
  per_epoch.title = any_koleo ? "training loss per epoch (SupCon + weighted KoLeo)" : "training loss (SupCon) per epoch";
  per_epoch.y_label = "mean loss over the epoch's batches";
  write_line_plot(dir + "/loss.png", per_epoch, losses);
  per_epoch.title = "precision@1 of the " + held_out_samples(data) + " against training references";
  per_epoch.y_label = "precision@1";
  per_epoch.y_floor = 0, per_epoch.y_ceiling = 1;
  write_line_plot(dir + "/precision.png", per_epoch, {p1});
  per_epoch.title = "circular variance of the embeddings of the " + held_out_samples(data);
  per_epoch.y_label = "circular variance (0 = collapsed)";
  per_epoch.y_floor = 0, per_epoch.y_ceiling = 1;
  write_line_plot(dir + "/circular_variance.png", per_epoch, {circvar});
}

// Everything one run carries from epoch to epoch.
struct Run {
  const dist::Communicator* world = nullptr;  // the ranks (one SingleProcess rank without MPI)
  Model model;
  nlohmann::json arch;  // what checkpoints must match
  nn::NamedParameters<float> params;
  std::unique_ptr<nn::Optimizer<float>> optimizer;
  nn::LrSchedule schedule;
  std::unique_ptr<nn::Ema<float>> ema;  // null when train.ema = 0
  Progress progress;
  // The loss's levels: loss.matryoshka's circle prefixes, or one level (circles 0: the whole
  // embedding, weight 1) without it.
  std::vector<nn::CircleLevel> levels;
  // Data-parallel: averages the ranks' gradients after each backward (null on one rank).
  std::unique_ptr<dist::GradientAverager<float>> averager;
};

// The model, its optimiser, schedule and EMA; a resumed run then takes all of them (and its
// progress) from last.ckpt. Nothing is written yet.
Run build_run(const TrainConfig& config, const RunOptions& options, const Dataset& data, const dist::Communicator& world) {
  std::mt19937_64 rng(config.seed);
  Run run;
  run.world = &world;
  run.model = make_model(config, data.input_shape, rng);
  run.arch = architecture(config, data.input_shape);
  run.params = run.model.net->parameters();
  // Initial weights from a file replace the random ones (all names and shapes must match); a
  // resumed run takes its weights from the checkpoint instead.
  if (!config.init.empty() && !options.resume) nn::io::load_parameters(config.init, run.params);
  run.optimizer = make_optimizer(config, run.params);
  run.schedule = make_schedule(config);
  run.levels = {nn::CircleLevel{0, 1.0}};
  if (!config.matryoshka.empty())
    run.levels = nn::parse_circle_levels(config.matryoshka, config.matryoshka_weights, nn::head_circles(run.model.mode, config.dim));
  if (config.ema > 0) run.ema = std::make_unique<nn::Ema<float>>(run.params, config.ema);
  if (options.resume)
    run.progress = restore_last(options.dir + "/last.ckpt", run.arch, *run.model.net, *run.optimizer, run.ema.get());
  if (world.size() > 1) {
    // Every rank built the same seeded weights (or read the same file); rank 0's copy is made
    // everyone's anyway, so no rank can start from anything else. The optimiser and EMA states
    // then stay equal because every rank applies the same averaged gradients.
    dist::broadcast_state(world, run.params, run.model.net->buffers());
    run.averager = std::make_unique<dist::GradientAverager<float>>(world, run.params);
    if (config.sync_bn) run.model.net->set_batch_norm_sync(&world);
  }
  return run;
}

// Only once the data is read and the checkpoint accepted does the run folder change: a new run
// clears what an earlier one left, and config.toml is (re)written either way.
void prepare_run_folder(const TrainConfig& config, const RunOptions& options, const Dataset& data) {
  fs::create_directories(options.dir);
  // Temporaries of a run killed mid-write (a 3 MB ".last.ckpt.tmp-<pid>-<n>" each) go, new run or not.
  nn::io::remove_abandoned_temporaries(options.dir);
  if (!options.resume)
    for (const char* f : {"last.ckpt", "best.ckpt", "metrics.csv", "class_names.json", "input.json"})
      fs::remove(options.dir + "/" + f);
  if (!options.resume)
    for (const char* plot : {"loss", "precision", "circular_variance", "embeddings", "angles"})
      for (const char* ext : {".png", ".svg"}) fs::remove(options.dir + "/" + plot + ext);
  nn::io::write_file_atomic(options.dir + "/config.toml", to_toml(config));
  const datasets::LogMelConfig mel = audio_options(config).mel;
  write_input_record(options.dir, make_input_record(config.dataset, data.input_shape, data.normalization,
                                                    data.train.is_audio ? &mel : nullptr));
  // Which label is which class, so every split (and every tool reading the run) agrees on it.
  if (!data.class_names.empty()) {
    nlohmann::json labels = nlohmann::json::array();
    for (const std::string& name : data.class_names) labels.push_back(name);
    // Folder names need not be UTF-8: invalid bytes are written as U+FFFD rather than failing the run.
    nn::io::write_file_atomic(options.dir + "/class_names.json",
                              nlohmann::json{{"class_names", labels}}.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  }
}

// The best epoch among the rows a resumed run keeps.
RunSummary summary_of(const MetricsLog& metrics) {
  RunSummary summary;
  for (const auto& r : metrics.rows())
    if (r.precision_at_1 > summary.best_precision_at_1) summary.best_precision_at_1 = r.precision_at_1, summary.best_epoch = r.epoch;
  return summary;
}

std::unique_ptr<datasets::BatchLoader> make_loader(const TrainConfig& config, const Dataset& data,
                                                   const dist::Communicator& world) {
  datasets::LoaderConfig lc;
  lc.part = world.rank();
  lc.parts = world.size();
  lc.batch = config.batch;
  lc.views = int(config.views);
  lc.seed = uint64_t(config.seed);
  lc.augment = augmentation(config, data.normalization);
  std::unique_ptr<datasets::BatchLoader> loader;
  if (data.train.is_audio) {
    lc.augment = data.normalization;  // per-band mean and std; the image ops do not apply
    lc.audio = audio_augmentation(config);
    loader = std::make_unique<datasets::BatchLoader>(data.train.audio, lc);
  } else if (data.train.is_images) {
    loader = std::make_unique<datasets::BatchLoader>(data.train.images, lc);
  } else {
    loader = std::make_unique<datasets::BatchLoader>(data.train.features, lc);
  }
  if (loader->batches_per_epoch() < 1)
    throw ConfigError("train.batch: " + std::to_string(config.batch) + " is more than the " +
                      std::to_string(data.train.size()) + " training samples");
  return loader;
}

struct StepLosses {
  double loss = 0, supcon = 0, koleo = 0;
  int64_t anchors_with_positive = 0;  // SupCon anchors that had a positive pair in the batch
};

// One optimiser step on one batch: forward, SupCon plus weighted KoLeo, backward, the finiteness
// checks, clipping, the step, EMA and torusC's rewrap. `where` names the step if it must stop.
// Data-parallel, `batch` is this rank's part: the losses gather every rank's features (the global
// batch, so the same loss value on every rank) and the gradients are averaged before anything
// reads them, so every rank takes the same decisions (stop, clip) and the same step.
StepLosses train_step(Run& run, const TrainConfig& config, const RunOptions& options, const datasets::Batch& batch,
                      bool planar, Tape<float>& tape, const std::function<std::string()>& where) {
  std::vector<int64_t> dims = {batch.views * batch.count};
  if (planar) dims.insert(dims.end(), {batch.channels, batch.height, batch.width});
  else dims.push_back(batch.width);
  tape.clear();
  const Var<float> z = run.model.net->forward(tape.constant(Tensor<float>(Shape(dims), batch.pixels)));
  nn::SupConOptions supcon_opt;
  supcon_opt.temperature = config.temperature;
  supcon_opt.base_temperature = config.base_temperature;
  StepLosses out;
  Var<float> loss;
  // One level (the whole embedding) without loss.matryoshka; each prefix of circles with it.
  for (const nn::CircleLevel& level : run.levels) {
    const Var<float> zk = level.circles == 0 ? z : nn::circle_prefix(z, run.model.mode, level.circles);
    const auto cf = nn::contrastive_features(zk, run.model.mode);
    const dist::GlobalContrastiveLoss<float> global =
        dist::global_supcon_koleo(*run.world, cf.f, batch.labels, int(batch.views), cf.scale, supcon_opt, config.koleo);
    const Var<float> term = level.weight == 1 ? global.loss : global.loss * level.weight;
    out.supcon += level.weight * double(global.supcon.loss.value().item());
    if (config.koleo > 0) out.koleo += level.weight * double(global.koleo.value().item());
    loss = loss.valid() ? loss + term : term;
    if (level.circles == run.levels.back().circles)
      out.anchors_with_positive = global.supcon.anchors - global.supcon.anchors_without_positive;
  }
  out.loss = loss.value().item();
  // Built only when the run stops: the step itself allocates no message.
  auto stopped = [&](const std::string& what) {
    return TrainingStopped(where() + ": " + what +
                           (options.debug ? "; " + first_nonfinite_op(tape) : "; rerun with --debug to find the op"));
  };
  if (!std::isfinite(out.loss)) throw stopped("the loss is " + std::to_string(out.loss));
  run.optimizer->zero_grad();
  tape.backward(loss);
  if (run.averager) run.averager->average();
  for (const auto& [name, p] : run.params)
    if (p->grad.shape() == p->value.shape() && !all_finite(p->grad)) throw stopped("the gradient of " + name + " is not finite");
  if (config.clip_value > 0) nn::clip_grad_value(run.params, config.clip_value);
  if (config.clip_norm > 0) nn::clip_grad_norm(run.params, config.clip_norm);
  run.optimizer->step();
  if (run.ema) run.ema->update();
  if (run.model.head) run.model.head->rewrap();
  ++run.progress.step;
  return out;
}

struct EpochLosses {
  StepLosses mean;  // over the epoch's batches
  double seconds = 0;
  int64_t batches = 0;
  double comm_seconds = 0;  // data-parallel: inside collectives (waiting for other ranks included)
  int64_t comm_bytes = 0;   // sent into all-gathers and allreduces by this rank
};

// Every batch of one epoch, with the progress bar.
EpochLosses train_epoch(Run& run, const TrainConfig& config, const RunOptions& options, const Dataset& data,
                        datasets::BatchLoader& loader, int64_t epoch, ProgressLine& progress_line, Tape<float>& tape) {
  run.optimizer->set_lr(run.schedule.at(epoch));
  run.model.net->set_training(true);
  loader.start_epoch(epoch);
  const int64_t batches = loader.batches_per_epoch();
  StepLosses sum;
  int64_t b = 0;
  datasets::Batch batch;
  const auto epoch_start = std::chrono::steady_clock::now();
  const dist::TrafficStats traffic_before = run.world->traffic();
  while (loader.next(batch)) {
    ++b;
    const auto where = [&] {
      return "step " + std::to_string(run.progress.step + 1) + " (epoch " + std::to_string(epoch + 1) + ", batch " +
             std::to_string(b) + ")";
    };
    const StepLosses step = train_step(run, config, options, batch, data.train.is_images || data.train.is_audio, tape, where);
    sum.loss += step.loss, sum.supcon += step.supcon, sum.koleo += step.koleo;
    sum.anchors_with_positive += step.anchors_with_positive;
    const double elapsed = seconds_since(epoch_start);
    const double rate = double(b * config.batch) / elapsed;  // the global batch, on every rank
    const double left = elapsed / double(b) * double(batches - b) +
                        elapsed / double(b) * double(batches) * double(config.epochs - epoch - 1);
    progress_line.step(epoch + 1, config.epochs, b, batches, sum.loss / double(b), rate, left);
  }
  // Single-view batches whose labels are all distinct have no positive pair: SupCon is exactly 0,
  // nothing trains, and the run would end "successfully" with a random network.
  if (sum.anchors_with_positive == 0)
    throw TrainingStopped("epoch " + std::to_string(epoch + 1) + ": no anchor of any batch had a positive pair (with loss.views = " +
                          std::to_string(config.views) + ", each class needs two samples in a batch), so SupCon is 0 and "
                          "nothing trains; use loss.views = 2 or larger batches");
  const dist::TrafficStats& traffic = run.world->traffic();
  return {{sum.loss / double(b), sum.supcon / double(b), sum.koleo / double(b), sum.anchors_with_positive},
          seconds_since(epoch_start), b, traffic.seconds() - traffic_before.seconds(),
          traffic.allreduce.bytes + traffic.allgather.bytes - traffic_before.allreduce.bytes - traffic_before.allgather.bytes};
}

struct Evaluation {
  double precision_at_1 = 0;
  double circular_variance = 0;  // of the queries in the evaluated space, as torus-eval measures it
  eval::RowMatrix zq;            // the queries' embeddings, for the scatter and the angle histograms
};

// precision@1 of the held-out queries against the references, with the averaged weights when EMA
// is on (as the reference does); says whether it is a new best.
// Data-parallel, each rank embeds its part of both splits and searches for its part of the queries;
// the embeddings are gathered (rank 0 plots them) and the hits summed.
Evaluation evaluate_epoch(Run& run, const TrainConfig& config, const Dataset& data, RunSummary& summary, bool& best) {
  const dist::Communicator& world = *run.world;
  // Per-rank batch norm leaves each rank with statistics of its own parts; as PyTorch DDP does,
  // rank 0's are everyone's (and they are the ones its checkpoint saves).
  if (world.size() > 1) dist::broadcast_state(world, {}, run.model.net->buffers());
  if (run.ema) run.ema->swap();
  Evaluation e;
  e.zq = embed_split(run.model, data.queries, data.normalization, world);
  const eval::RowMatrix zr = embed_split(run.model, data.references, data.normalization, world);
  const eval::RowMatrix q = eval::evaluated_space(e.zq, run.model.mode);
  const datasets::BatchPart mine = datasets::batch_part(q.rows(), world.rank(), world.size());
  const std::vector<int>& labels = data.queries.labels();
  double hits = 0;
  if (mine.count > 0) {
    const eval::RowMatrix my_queries = q.middleRows(mine.first, mine.count);
    const std::vector<int> my_labels(labels.begin() + mine.first, labels.begin() + mine.first + mine.count);
    hits = std::round(double(mine.count) * eval::precision_at_1(my_queries, my_labels, eval::evaluated_space(zr, run.model.mode),
                                                                data.references.labels(), int(config.threads)));
  }
  world.allreduce_sum(std::span<double>(&hits, 1));
  e.precision_at_1 = q.rows() > 0 ? hits / double(q.rows()) : 0.0;
  e.circular_variance = geometry::circular_variance_rows<float>(q);
  const double p1 = e.precision_at_1;
  best = p1 > summary.best_precision_at_1 || summary.best_epoch == 0;
  if (best) {
    summary.best_precision_at_1 = p1;
    summary.best_epoch = run.progress.epoch;
  }
  if (run.ema) run.ema->swap();
  return e;
}

// The epoch's metrics row, the curves, and its line on the terminal.
void log_epoch(const Run& run, const TrainConfig& config, const RunOptions& options, const Dataset& data,
               const EpochLosses& losses, const Evaluation& e, bool best, double run_seconds, MetricsLog& metrics,
               ProgressLine& progress_line) {
  const double p1 = e.precision_at_1;
  EpochMetrics row;
  row.epoch = run.progress.epoch;
  row.loss = losses.mean.loss;
  row.supcon = losses.mean.supcon;
  row.koleo = losses.mean.koleo;
  row.precision_at_1 = p1;
  row.circular_variance = e.circular_variance;
  row.lr = run.schedule.at(run.progress.epoch - 1);
  row.images_per_s = double(losses.batches * config.batch) / losses.seconds;
  row.seconds = run_seconds;
  metrics.append(row);
  write_curves(options.dir, metrics.rows(), data);
  char text[256];
  std::snprintf(text, sizeof text, "epoch %lld/%lld  loss %.4f  precision@1 %.4f%s  lr %.4g  %.0f img/s  %.1f s",
                static_cast<long long>(run.progress.epoch), static_cast<long long>(config.epochs), row.loss, p1,
                best ? " (best)" : "", row.lr, row.images_per_s, losses.seconds);
  std::string line = text;
  if (run.world->size() > 1) {
    // Rank 0's share of the epoch spent in collectives, and what it sent per step.
    std::snprintf(text, sizeof text, "  communication %.0f%% (%.2f MB per step)", 100 * losses.comm_seconds / losses.seconds,
                  double(losses.comm_bytes) / 1e6 / double(std::max<int64_t>(losses.batches, 1)));
    line += text;
  }
  progress_line.line(line);
}

// What an epoch leaves on disk, in the order that keeps every kill -9 recoverable: the metrics row
// first (on disk before anything else), then the plots and best.ckpt, and last.ckpt at the very
// end, so a last.ckpt on disk means the whole epoch is. A run killed before last.ckpt resumes from
// the epoch before, drops the rows after it and redoes the epoch, writing the same row, plots and
// best.ckpt again; with the checkpoint renamed first, a kill before the row would lose it for good
// and let a worse epoch become best.ckpt, and one before the scatter plot would leave the last
// epoch's plot stale in a finished run. tests/train/crash kills the run at each of these points.
void save_epoch(Run& run, const TrainConfig& config, const RunOptions& options, const Dataset& data,
                const EpochLosses& losses, const Evaluation& e, bool best, double run_seconds, MetricsLog& metrics,
                ProgressLine& progress_line) {
  log_epoch(run, config, options, data, losses, e, best, run_seconds, metrics, progress_line);
  if (best) {
    if (run.ema) run.ema->swap();  // best.ckpt holds the weights that were evaluated
    save_best(options.dir + "/best.ckpt", run.arch, run.progress, *run.model.net);
    if (run.ema) run.ema->swap();
  }
  if (run.model.mode != nn::HeadMode::none)
    write_scatter(options.dir + "/embeddings.png", config, run.model.mode, e.zq, data);
  if (run.model.mode == nn::HeadMode::torusN || run.model.mode == nn::HeadMode::torusC)
    write_angles(options.dir + "/angles.png", run.model.mode, e.zq, data);
  save_last(options.dir + "/last.ckpt", run.arch, run.progress, *run.model.net, *run.optimizer, optimizer_info(config),
            run.ema.get(), uint64_t(config.seed), settings_record(config));
}

// What every rank must agree on before training together: the settings, the folder, and the data
// each has read (the same files on every node), so that no rank trains something else.
void require_same_run(const dist::Communicator& world, const TrainConfig& config, const RunOptions& options,
                      const Dataset& data) {
  if (world.size() == 1) return;
  dist::require_same_on_every_rank(world, "the run's configuration (config.toml)", to_toml(config));
  dist::require_same_on_every_rank(world, "the run folder", options.dir + (options.resume ? " (resumed)" : " (new)"));
  std::ostringstream facts;
  facts << "train " << data.train.size() << ", queries " << data.queries.size() << ", references " << data.references.size()
        << ", input";
  for (const int64_t d : data.input_shape) facts << ' ' << d;
  for (const std::string& name : data.class_names) facts << '\n' << name;
  dist::require_same_on_every_rank(world, "the data read (samples per split, input shape, class names)", facts.str());
}
}  // namespace

RunSummary train_run(const TrainConfig& config, const RunOptions& options) {
  validate(config);
  const dist::SingleProcess alone;
  const dist::Communicator& world = options.world ? *options.world : alone;
  // Rank 0 writes the run folder; the others train and evaluate beside it and write nothing.
  const bool writer = world.rank() == 0;
  if (config.batch < world.size())
    throw ConfigError("train.batch: " + std::to_string(config.batch) + " is fewer than the " + std::to_string(world.size()) +
                      " ranks; every rank needs part of each batch");
  set_num_threads(int(config.threads));
  const Dataset data = load_dataset(config);
  require_same_run(world, config, options, data);
  Run run = build_run(config, options, data, world);
  const std::unique_ptr<datasets::BatchLoader> loader = make_loader(config, data, world);
  const bool folder_existed = fs::exists(options.dir);
  std::optional<RunFolderLock> lock;
  if (writer) {
    fs::create_directories(options.dir);
    lock.emplace(options.dir);
  }
  // A resumed run takes its folder now; a new one only once its first epoch has trained, so a run
  // that stops early (a NaN in epoch 1, any error) leaves an earlier run in the folder untouched,
  // even with --overwrite, and a folder it made itself is removed again.
  std::optional<MetricsLog> metrics;
  RunSummary summary;
  if (options.resume && writer) {
    prepare_run_folder(config, options, data);
    metrics.emplace(options.dir + "/metrics.csv", run.progress.epoch);
    summary = summary_of(*metrics);
  }
  ProgressLine progress_line = writer ? ProgressLine(options.terminal) : ProgressLine::silent();
  Tape<float> tape;
  const auto run_start = std::chrono::steady_clock::now();
  try {
    for (int64_t epoch = run.progress.epoch; epoch < config.epochs; ++epoch) {
      const EpochLosses losses = train_epoch(run, config, options, data, *loader, epoch, progress_line, tape);
      summary.train_seconds += losses.seconds;
      run.progress.epoch = epoch + 1;
      bool best = false;
      const Evaluation e = evaluate_epoch(run, config, data, summary, best);
      if (writer) {
        if (!metrics) {
          prepare_run_folder(config, options, data);
          metrics.emplace(options.dir + "/metrics.csv", -1);
        }
        save_epoch(run, config, options, data, losses, e, best, seconds_since(run_start), *metrics, progress_line);
      }
      summary.last_precision_at_1 = e.precision_at_1;
    }
  } catch (...) {
    std::error_code ec;
    if (writer && !metrics && !folder_existed) fs::remove(options.dir, ec);  // only if still empty
    throw;
  }
  summary.epochs_done = run.progress.epoch;
  return summary;
}

}  // namespace torus::train
