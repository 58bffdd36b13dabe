"""The conformance runner's not-applicable list: what it matches, and when."""
from conformance import not_applicable
from conformance.not_applicable import reason_not_applicable


def test_a_parametrized_test_id_is_matched_literally():
    listed = 'tests/keras/utils/generic_utils_test.py::test_func_dump_and_load_backwards_compat'
    assert reason_not_applicable(listed + '[argmax]') is not None
    assert reason_not_applicable(listed + '[softmax]') is None
    assert reason_not_applicable(listed + '[a]') is None  # not a character class


def test_a_whole_file_that_cannot_be_imported_is_matched_by_its_path():
    assert 'tensorflow' in reason_not_applicable('tests/keras/utils/multi_gpu_test.py')
    assert reason_not_applicable('tests/keras/utils/np_utils_test.py') is None


def test_download_tests_apply_once_their_files_are_in_the_keras_directory(tmp_path, monkeypatch):
    nodeid = 'tests/integration_tests/imagenet_utils_test.py::test_decode_predictions'
    monkeypatch.setenv('KERAS_HOME', str(tmp_path))
    reason = reason_not_applicable(nodeid)
    assert 'models/imagenet_class_index.json' in reason and str(tmp_path) in reason
    (tmp_path / 'models').mkdir()
    (tmp_path / 'models' / 'imagenet_class_index.json').write_text('{}')
    assert reason_not_applicable(nodeid) is None


def test_every_entry_has_a_reason():
    for pattern, reason in not_applicable.NOT_APPLICABLE:
        assert pattern.startswith('tests/') and len(reason) > 40
    for pattern, files in not_applicable.NEEDS_DOWNLOAD:
        assert pattern.startswith('tests/') and files
