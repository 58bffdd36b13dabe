"""refkeras.preprocessing.image, checked against direct NumPy computations.

Needs Pillow and SciPy (the `image` extra, installed by the `test` extra).
"""
import os

import numpy as np
import pytest

pytest.importorskip('PIL', reason='Pillow is not installed (pip install refkeras[image])')
pytest.importorskip('scipy.ndimage', reason='SciPy is not installed (pip install refkeras[image])')

from PIL import Image  # noqa: E402

from refkeras.preprocessing import image  # noqa: E402


def test_a_shift_by_whole_pixels_moves_the_image_and_fills_with_the_constant():
    x = np.arange(25, dtype='float64').reshape(5, 5, 1)
    shifted = image.apply_affine_transform(x, tx=1, ty=2, fill_mode='constant', cval=-1.)
    # Output pixel (i, j) reads input (i + 1, j + 2).
    expected = np.full((5, 5, 1), -1.)
    expected[:4, :3] = x[1:, 2:]
    np.testing.assert_allclose(shifted, expected, atol=1e-12)


def test_a_rotation_by_90_degrees_turns_about_keras_centre_point():
    # Keras 2.2.4 turns about (size / 2 + 0.5) in each axis: 3.5 for 6 pixels,
    # half a pixel past the true centre 2.5. Output (i, j) then reads input
    # (3.5 - (j - 3.5), i) = (7 - j, i); columns 0 and 1 fall outside.
    x = np.random.RandomState(0).rand(6, 6, 2)
    rotated = image.apply_affine_transform(x, theta=90, fill_mode='constant', cval=-1.)
    expected = np.full_like(x, -1.)
    for i in range(6):
        for j in range(2, 6):
            expected[i, j] = x[7 - j, i]
    np.testing.assert_allclose(rotated, expected, atol=1e-9)


def test_transforms_return_new_arrays_and_leave_the_input_unchanged():
    x = np.random.RandomState(1).rand(8, 8, 3)
    before = x.copy()
    generator = image.ImageDataGenerator(rotation_range=30, width_shift_range=0.2, rescale=0.5,
                                         samplewise_center=True, horizontal_flip=True,
                                         channel_shift_range=0.1, brightness_range=(0.5, 1.5))
    generator.random_transform(x, seed=3)
    generator.standardize(x)
    image.apply_affine_transform(x)
    np.testing.assert_array_equal(x, before)


def test_flips_and_channel_shift_follow_their_definitions():
    x = np.random.RandomState(2).rand(4, 5, 3)
    generator = image.ImageDataGenerator()
    np.testing.assert_array_equal(generator.apply_transform(x, {'flip_horizontal': True}),
                                  x[:, ::-1, :])
    np.testing.assert_array_equal(generator.apply_transform(x, {'flip_vertical': True}),
                                  x[::-1, :, :])
    shifted = image.apply_channel_shift(x, 0.25, channel_axis=2)
    np.testing.assert_allclose(shifted, np.clip(x + 0.25, x.min(), x.max()))


def test_fit_computes_the_per_channel_mean_and_std_and_standardize_applies_them():
    x = np.random.RandomState(3).rand(10, 4, 4, 3) * [1., 5., 20.]
    generator = image.ImageDataGenerator(featurewise_center=True,
                                         featurewise_std_normalization=True)
    generator.fit(x)
    np.testing.assert_allclose(generator.mean.ravel(), x.mean(axis=(0, 1, 2)), rtol=1e-5)
    np.testing.assert_allclose(generator.std.ravel(), x.std(axis=(0, 1, 2)), rtol=1e-4)
    standardized = generator.standardize(x)
    np.testing.assert_allclose(standardized.mean(axis=(0, 1, 2)), 0, atol=1e-4)
    np.testing.assert_allclose(standardized.std(axis=(0, 1, 2)), 1, atol=1e-3)


def test_zca_whitening_makes_the_fitted_data_uncorrelated():
    x = np.random.RandomState(4).rand(400, 2, 2, 1)
    x[..., 0, 0, 0] += 2 * x[..., 1, 1, 0]  # correlate two pixels
    generator = image.ImageDataGenerator(zca_whitening=True, zca_epsilon=1e-9)
    generator.fit(x)
    flat = generator.standardize(x).reshape(len(x), -1)
    covariance = flat.T.dot(flat) / len(flat)
    np.testing.assert_allclose(covariance, np.eye(4), atol=1e-3)


def test_samplewise_centring_of_a_batch_uses_each_image_alone():
    x = np.stack([np.full((3, 3, 1), 1.), np.full((3, 3, 1), 10.)])
    x[:, 0, 0, 0] += 1
    generator = image.ImageDataGenerator(samplewise_center=True)
    centred = generator.standardize(x)
    for got, original in zip(centred, x):
        np.testing.assert_allclose(got, original - original.mean(), atol=1e-6)


def test_flow_batches_follow_the_order_and_pass_targets_and_weights_through():
    x = np.random.RandomState(5).rand(7, 4, 4, 1)
    flow = image.ImageDataGenerator().flow(x, np.arange(7), sample_weight=np.arange(7) * 2.,
                                           batch_size=3, shuffle=False)
    assert len(flow) == 3
    batch_x, batch_y, batch_w = flow[2]
    np.testing.assert_allclose(batch_x, x[6:], rtol=1e-6)
    assert batch_y.tolist() == [6] and batch_w.tolist() == [12.]


@pytest.mark.parametrize('shape', [(5, 4, 4), (4, 4, 3, 1, 1)])
def test_flow_and_fit_refuse_arrays_that_are_not_rank_four(shape):
    generator = image.ImageDataGenerator()
    with pytest.raises(ValueError, match='rank 4'):
        generator.flow(np.zeros(shape))
    with pytest.raises(ValueError, match='rank 4'):
        generator.fit(np.zeros(shape))


def test_array_to_img_and_back_round_trips_8_bit_values():
    x = np.random.RandomState(6).randint(0, 256, size=(5, 7, 3)).astype('float32')
    img = image.array_to_img(x, data_format='channels_last', scale=False)
    assert img.size == (7, 5) and img.mode == 'RGB'
    np.testing.assert_array_equal(image.img_to_array(img, data_format='channels_last'), x)
    back = image.img_to_array(image.array_to_img(x.transpose(2, 0, 1), 'channels_first',
                                                 scale=False), 'channels_first')
    np.testing.assert_array_equal(back, x.transpose(2, 0, 1))


def test_array_to_img_names_a_bad_rank_or_channel_count():
    with pytest.raises(ValueError, match='rank 3'):
        image.array_to_img(np.zeros((4, 4)))
    with pytest.raises(ValueError, match='got 2'):
        image.array_to_img(np.zeros((4, 4, 2)), data_format='channels_last')


def _write_images(folder, classes, per_class, size=(6, 5)):
    rng = np.random.RandomState(7)
    for name in classes:
        os.makedirs(os.path.join(folder, name, 'deeper'))
        for index in range(per_class):
            where = name if index % 2 else os.path.join(name, 'deeper')
            pixels = rng.randint(0, 256, size=size + (3,)).astype('uint8')
            Image.fromarray(pixels).save(os.path.join(folder, where, 'img%d.png' % index))


def test_flow_from_directory_reads_every_class_folder_and_labels_by_folder(tmp_path):
    _write_images(str(tmp_path), ['cats', 'dogs'], 3)
    iterator = image.ImageDataGenerator().flow_from_directory(
        str(tmp_path), target_size=(6, 5), batch_size=6, shuffle=False, class_mode='sparse')
    assert iterator.class_indices == {'cats': 0, 'dogs': 1}
    batch_x, batch_y = iterator[0]
    assert batch_x.shape == (6, 6, 5, 3)
    for pixels, label, name in zip(batch_x, batch_y, iterator.filenames):
        assert label == (0 if name.startswith('cats') else 1)
        expected = np.asarray(Image.open(os.path.join(str(tmp_path), name)), dtype='float32')
        np.testing.assert_array_equal(pixels, expected)


def test_flow_from_directory_splits_each_class_for_validation(tmp_path):
    _write_images(str(tmp_path), ['a', 'b'], 4)
    generator = image.ImageDataGenerator(validation_split=0.25)
    training = generator.flow_from_directory(str(tmp_path), target_size=(6, 5),
                                             subset='training')
    validation = generator.flow_from_directory(str(tmp_path), target_size=(6, 5),
                                               subset='validation')
    assert (training.samples, validation.samples) == (6, 2)
    assert not set(training.filenames) & set(validation.filenames)


def test_flow_from_directory_without_images_names_the_folder(tmp_path):
    (tmp_path / 'empty_class').mkdir()
    (tmp_path / 'empty_class' / 'notes.txt').write_text('no pictures here')
    with pytest.raises(ValueError) as error:
        image.ImageDataGenerator().flow_from_directory(str(tmp_path))
    assert 'found no images' in str(error.value) and str(tmp_path) in str(error.value)
    with pytest.raises(ValueError, match='is not a folder'):
        image.ImageDataGenerator().flow_from_directory(str(tmp_path / 'missing'))


def test_load_img_resizes_to_height_by_width_and_converts_colour(tmp_path):
    path = str(tmp_path / 'picture.png')
    Image.fromarray(np.zeros((10, 20, 3), dtype='uint8')).save(path)
    img = image.load_img(path, color_mode='grayscale', target_size=(4, 8))
    assert image.img_to_array(img).shape == (4, 8, 1)
    with pytest.raises(ValueError, match='color_mode'):
        image.load_img(path, color_mode='cmyk')
