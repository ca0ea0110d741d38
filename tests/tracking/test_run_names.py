import re

from mltracker.service.tracking.run_names import MAX_LENGTH, generate_run_name

STYLE = re.compile(r"^[a-z]+-[a-z]+-\d{1,3}$")


def test_generated_names_have_mlflows_shape_and_length():
    names = {generate_run_name() for _ in range(5000)}
    assert all(STYLE.match(n) and len(n) <= MAX_LENGTH for n in names)
    assert len(names) > 4000  # random, not a handful of fixed names
