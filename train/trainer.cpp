#include "train/trainer.hpp"

#include "autodiff/parallel.hpp"
#include "datasets/batch_loader.hpp"
#include "nn/adam.hpp"
#include "nn/grad_clip.hpp"
#include "nn/io/atomic_file.hpp"
#include "nn/io/safetensors.hpp"
#include "nn/koleo.hpp"
#include "nn/lr_schedule.hpp"
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

// The scatter of two chosen circles (torusN angles, torusC coordinates) or, for the other heads,
// two coordinates mapped from [-1, 1] onto [0, 1).
void write_scatter(const std::string& path, const TrainConfig& c, nn::HeadMode mode, const eval::RowMatrix& z,
                   const std::vector<int>& labels, const std::vector<std::string>& names) {
  const bool torus = mode == nn::HeadMode::torusN || mode == nn::HeadMode::torusC;
  const eval::RowMatrix u = torus ? eval::torus_angles(z, mode) : z;
  std::vector<float> x(size_t(u.rows())), y(size_t(u.rows()));
  for (Eigen::Index i = 0; i < u.rows(); ++i) {
    x[size_t(i)] = torus ? u(i, c.circle_x) : 0.5f * (u(i, c.circle_x) + 1);
    y[size_t(i)] = torus ? u(i, c.circle_y) : 0.5f * (u(i, c.circle_y) + 1);
  }
  const std::string what = mode == nn::HeadMode::torusN ? "circle " : "coordinate ";
  const std::string title = std::string(nn::head_mode_name(mode)) + " embeddings of the held-out images" +
                            (torus ? " on the flat torus" : " ((z + 1) / 2)");
  write_torus_scatter(path, title, what + std::to_string(c.circle_x) + (torus ? " (turns)" : ""),
                      what + std::to_string(c.circle_y), x, y, labels, names);
}

void write_curves(const std::string& dir, const std::vector<EpochMetrics>& rows) {
  Curve loss{"loss", {}, {}}, supcon{"SupCon", {}, {}}, koleo{"KoLeo", {}, {}}, p1{"precision@1", {}, {}};
  bool any_koleo = false;
  for (const auto& r : rows) {
    for (Curve* cv : {&loss, &supcon, &koleo, &p1}) cv->x.push_back(double(r.epoch));
    loss.y.push_back(r.loss);
    supcon.y.push_back(r.supcon);
    koleo.y.push_back(r.koleo);
    p1.y.push_back(r.precision_at_1);
    any_koleo = any_koleo || r.koleo != 0;
  }
  // Without KoLeo the loss is SupCon: one curve.
  std::vector<Curve> losses = {loss};
  if (any_koleo) losses.insert(losses.end(), {supcon, koleo});
  write_line_plot(dir + "/loss.png", "training loss per epoch", "epoch", losses);
  write_line_plot(dir + "/precision.png", "precision@1 of held-out queries", "epoch", {p1});
}
}  // namespace

RunSummary train_run(const TrainConfig& config, const RunOptions& options) {
  validate(config);
  set_num_threads(int(config.threads));
  const Dataset data = load_dataset(config);
  std::mt19937_64 rng(config.seed);
  Model model = make_model(config, data.input_shape, rng);
  const nlohmann::json arch = architecture(config, data.input_shape);
  const auto params = model.net->parameters();
  // Initial weights from a file replace the random ones (all names and shapes must match); a
  // resumed run takes its weights from the checkpoint instead.
  if (!config.init.empty() && !options.resume) nn::io::load_parameters(config.init, params);
  auto optimizer = make_optimizer(config, params);
  const nn::LrSchedule schedule = make_schedule(config);
  std::unique_ptr<nn::Ema<float>> ema;
  if (config.ema > 0) ema = std::make_unique<nn::Ema<float>>(params, config.ema);

  const std::string dir = options.dir;
  const std::string last_path = dir + "/last.ckpt", best_path = dir + "/best.ckpt";
  Progress progress;
  if (options.resume) progress = restore_last(last_path, arch, *model.net, *optimizer, ema.get());
  // Only now, with the data read and the checkpoint accepted, does the run folder change.
  fs::create_directories(dir);
  if (!options.resume)
    for (const char* f : {"last.ckpt", "best.ckpt", "metrics.csv", "loss.png", "precision.png", "embeddings.png"})
      fs::remove(dir + "/" + f);
  nn::io::write_file_atomic(dir + "/config.toml", to_toml(config));
  MetricsLog metrics(dir + "/metrics.csv", options.resume ? progress.epoch : -1);
  RunSummary summary;
  for (const auto& r : metrics.rows())
    if (r.precision_at_1 > summary.best_precision_at_1) summary.best_precision_at_1 = r.precision_at_1, summary.best_epoch = r.epoch;

  datasets::LoaderConfig lc;
  lc.batch = config.batch;
  lc.views = int(config.views);
  lc.seed = uint64_t(config.seed);
  lc.augment = augmentation(config, data.normalization);
  std::unique_ptr<datasets::BatchLoader> loader =
      data.train.is_images ? std::make_unique<datasets::BatchLoader>(data.train.images, lc)
                           : std::make_unique<datasets::BatchLoader>(data.train.features, lc);
  const int64_t batches = loader->batches_per_epoch();
  if (batches < 1)
    throw ConfigError("train.batch: " + std::to_string(config.batch) + " is more than the " +
                      std::to_string(data.train.size()) + " training samples");

  nn::SupConOptions supcon_opt;
  supcon_opt.temperature = config.temperature;
  supcon_opt.base_temperature = config.base_temperature;
  ProgressLine progress_line(options.terminal);
  Tape<float> tape;
  datasets::Batch batch;
  std::vector<int64_t> dims;
  const auto run_start = std::chrono::steady_clock::now();
  double train_seconds = 0;

  for (int64_t epoch = progress.epoch; epoch < config.epochs; ++epoch) {
    const double lr = schedule.at(epoch);
    optimizer->set_lr(lr);
    model.net->set_training(true);
    loader->start_epoch(epoch);
    double sum_loss = 0, sum_supcon = 0, sum_koleo = 0;
    int64_t b = 0;
    const auto epoch_start = std::chrono::steady_clock::now();
    while (loader->next(batch)) {
      ++b;
      dims.assign({batch.views * batch.count});
      if (data.train.is_images) dims.insert(dims.end(), {batch.channels, batch.height, batch.width});
      else dims.push_back(batch.width);
      tape.clear();
      const Var<float> z = model.net->forward(tape.constant(Tensor<float>(Shape(dims), batch.pixels)));
      const auto cf = nn::contrastive_features(z, model.mode);
      const auto sup = nn::supcon_loss(cf.f, batch.labels, int(batch.views), cf.scale, supcon_opt);
      Var<float> loss = sup.loss;
      double koleo_value = 0;
      if (config.koleo > 0) {
        const Var<float> kl = nn::koleo_loss(cf.f, int(batch.views));
        koleo_value = kl.value().item();
        loss = loss + kl * config.koleo;
      }
      const double loss_value = loss.value().item();
      // Built only when the run stops: the step itself allocates no message.
      auto stopped = [&](const std::string& what) {
        return TrainingStopped("step " + std::to_string(progress.step + 1) + " (epoch " + std::to_string(epoch + 1) +
                               ", batch " + std::to_string(b) + "): " + what +
                               (options.debug ? "; " + first_nonfinite_op(tape) : "; rerun with --debug to find the op"));
      };
      if (!std::isfinite(loss_value)) throw stopped("the loss is " + std::to_string(loss_value));
      optimizer->zero_grad();
      tape.backward(loss);
      for (const auto& [name, p] : params)
        if (p->grad.shape() == p->value.shape() && !all_finite(p->grad))
          throw stopped("the gradient of " + name + " is not finite");
      if (config.clip_value > 0) nn::clip_grad_value(params, config.clip_value);
      if (config.clip_norm > 0) nn::clip_grad_norm(params, config.clip_norm);
      optimizer->step();
      if (ema) ema->update();
      if (model.head) model.head->rewrap();
      ++progress.step;
      sum_loss += loss_value;
      sum_supcon += sup.loss.value().item();
      sum_koleo += koleo_value;
      const double elapsed = seconds_since(epoch_start);
      const double rate = double(b * batch.count) / elapsed;
      const double left = elapsed / b * double(batches - b) +
                          elapsed / b * double(batches) * double(config.epochs - epoch - 1);
      progress_line.step(epoch + 1, config.epochs, b, batches, sum_loss / double(b), rate, left);
    }
    const double epoch_seconds = seconds_since(epoch_start);
    train_seconds += epoch_seconds;
    progress.epoch = epoch + 1;

    // Evaluate with the averaged weights when EMA is on (as the reference does), then go back.
    if (ema) ema->swap();
    const eval::RowMatrix zq = embed_split(model, data.queries, data.normalization);
    const eval::RowMatrix zr = embed_split(model, data.references, data.normalization);
    const double p1 = eval::precision_at_1(eval::evaluated_space(zq, model.mode), data.queries.labels(),
                                           eval::evaluated_space(zr, model.mode), data.references.labels(), int(config.threads));
    const bool best = p1 > summary.best_precision_at_1 || summary.best_epoch == 0;
    if (best) {
      summary.best_precision_at_1 = p1;
      summary.best_epoch = progress.epoch;
      save_best(best_path, arch, progress, *model.net);
    }
    if (model.mode != nn::HeadMode::none)
      write_scatter(dir + "/embeddings.png", config, model.mode, zq, data.queries.labels(), data.class_names);
    if (ema) ema->swap();
    save_last(last_path, arch, progress, *model.net, *optimizer, optimizer_info(config), ema.get(), uint64_t(config.seed));

    EpochMetrics row;
    row.epoch = progress.epoch;
    row.loss = sum_loss / double(b);
    row.supcon = sum_supcon / double(b);
    row.koleo = sum_koleo / double(b);
    row.precision_at_1 = p1;
    row.lr = lr;
    row.images_per_s = double(b * config.batch) / epoch_seconds;
    row.seconds = seconds_since(run_start);
    metrics.append(row);
    write_curves(dir, metrics.rows());
    summary.last_precision_at_1 = p1;
    char text[256];
    std::snprintf(text, sizeof text, "epoch %lld/%lld  loss %.4f  precision@1 %.4f%s  lr %.4g  %.0f img/s  %.1f s",
                  static_cast<long long>(progress.epoch), static_cast<long long>(config.epochs), row.loss, p1,
                  best ? " (best)" : "", lr, row.images_per_s, epoch_seconds);
    progress_line.line(text);
  }
  summary.epochs_done = progress.epoch;
  summary.train_seconds = train_seconds;
  return summary;
}

}  // namespace torus::train
