// CIFAR-10 and CIFAR-100 in their "binary version" (https://www.cs.toronto.edu/~kriz/cifar.html).
// Every record is its label byte(s) followed by 3072 pixel bytes: the 32x32 red plane, then green,
// then blue, each row-major, which is already the (C, H, W) layout of ImageSet. There is no header,
// so the file sizes are the only check of format: each file must hold exactly the expected number
// of whole records, and every label byte must lie in range, before an image is returned.
//
// Where the real files go (they are not shipped; nothing is downloaded by torus):
//   CIFAR-10:  extract cifar-10-binary.tar.gz in `dir`, giving dir/cifar-10-batches-bin/
//              {data_batch_1..5.bin, test_batch.bin, batches.meta.txt}
//   CIFAR-100: extract cifar-100-binary.tar.gz in `dir`, giving dir/cifar-100-binary/
//              {train.bin, test.bin, fine_label_names.txt, coarse_label_names.txt}
// `dir` may also be the extracted folder itself. The label-name files are optional: when present
// they fill ImageSet::class_names (and must list exactly one name per class).
#pragma once

#include "datasets/image_set.hpp"

#include <string>

namespace torus::datasets {

// split "train": data_batch_1.bin .. data_batch_5.bin (50000 images); "test": test_batch.bin (10000).
// 10 classes.
ImageSet load_cifar10(const std::string& dir, const std::string& split);

// CIFAR-100 records carry a coarse label (20 superclasses) then a fine label (100 classes); both
// are validated, `labels` picks the one returned. split "train": train.bin (50000), "test": test.bin (10000).
enum class CifarLabels { fine, coarse };
ImageSet load_cifar100(const std::string& dir, const std::string& split, CifarLabels labels);

}  // namespace torus::datasets
