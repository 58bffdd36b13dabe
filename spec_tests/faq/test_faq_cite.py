"""FAQ: "How should I cite Keras?"

The FAQ gives a BibTeX entry for Keras. refkeras's README repeats it as
written, and CITATION.cff says how to cite refkeras itself, naming Keras as
the work it implements. (Documentation of this repository, so refkeras-only.)
"""
import os

import yaml

from keras_under_test import refkeras_only

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

pytestmark = refkeras_only('checks the citation files of this repository')

KERAS_BIBTEX = r"""@misc{chollet2015keras,
  title={Keras},
  author={Chollet, Fran\c{c}ois and others},
  year={2015},
  howpublished={\url{https://keras.io}},
}"""


def test_the_readme_gives_the_faqs_bibtex_entry_for_keras():
    with open(os.path.join(REPO, 'README.md')) as handle:
        readme = handle.read()
    assert KERAS_BIBTEX in readme
    spec = os.path.join(REPO, '..', 'shared', 'spec', 'keras-2.2.4-faq.md')
    if os.path.exists(spec):  # the FAQ itself, where the workspace has it
        with open(spec) as handle:
            assert KERAS_BIBTEX in handle.read()


def test_citation_cff_is_valid_cff_1_2_0_and_names_keras():
    with open(os.path.join(REPO, 'CITATION.cff')) as handle:
        cff = yaml.safe_load(handle)
    assert cff['cff-version'] == '1.2.0'
    for key in ('message', 'title', 'authors'):  # the keys CFF 1.2.0 requires
        assert cff[key]
    assert all('name' in a or 'family-names' in a for a in cff['authors'])
    assert cff['title'].lower().startswith('refkeras')
    assert cff['type'] == 'software' and cff['license'] == 'MIT'
    keras = [r for r in cff['references'] if r['title'] == 'Keras']
    assert keras and keras[0]['year'] == 2015 and keras[0]['url'] == 'https://keras.io'
    assert keras[0]['authors'][0] == {'family-names': 'Chollet', 'given-names': 'François'}
