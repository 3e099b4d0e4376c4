"""`rasa data validate` with every warning an error, plus the check Rasa cannot make itself.

Rasa's validator only sees stories and rules, so it reports every response that a custom action
utters as "not used in any story or rule". This script runs the same validator and treats such a
response as used only when the action code names it (``actions/names.py``); a response named in
Python but missing from the domain is an error, and so is one used nowhere. External intents
(``EXTERNAL_*``, sent by the desk, never typed) are expected to have no NLU examples.
"""

from __future__ import annotations

import ast
import re
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

UNUSED_UTTERANCE = re.compile(r"The utterance '([^']+)' is not used in any story or rule")
# Rasa 3.6 adds retrieval intents found in the NLU data to the domain while merging, so a domain
# that lists `faq` (which the rules need) gets a "duplicated intents" note for it alone.
RETRIEVAL_DUPLICATE = re.compile(r"duplicated intents have been found across multiple domain files: (.+)$")
# printed by Rasa 3.6 on every domain load, whatever the slots look like
ALWAYS_PRINTED = "Slot auto-fill has been removed in 3.0"
EXTERNAL_INTENT = re.compile(r"The intent '(EXTERNAL_[^']+)' is listed in the domain file, but is not found")


def python_responses() -> tuple[set[str], set[str]]:
    """(response names, response-name prefixes) defined in actions/names.py."""
    tree = ast.parse((ROOT / "actions" / "names.py").read_text(encoding="utf-8"))
    exact, prefixes = set(), set()
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            value = node.value.value
            if isinstance(value, str) and value.startswith("utter_"):
                (prefixes if value.endswith("_") or node.targets[0].id.endswith("_PREFIX") else exact).add(value)  # type: ignore[attr-defined]
    return exact, prefixes


def main() -> int:
    from rasa.shared.importers.importer import TrainingDataImporter
    from rasa.validator import Validator

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        importer = TrainingDataImporter.load_from_config(
            config_path=str(ROOT / "config.yml"),
            domain_path=str(ROOT / "bot" / "domain"),
            training_data_paths=[str(ROOT / "bot" / "data"), str(ROOT / "nlu_data")],
        )
        validator = Validator.from_importer(importer)
        ok = all(
            [
                validator.verify_domain_validity(),
                validator.verify_actions_in_stories_rules(),
                validator.verify_forms_in_stories_rules(),
                validator.verify_form_slots(),
                validator.verify_slot_mappings(),
                validator.verify_nlu(ignore_warnings=True),
                validator.verify_story_structure(ignore_warnings=True),
            ]
        )
    domain_responses = set(validator.domain.responses)
    retrieval_intents = set(validator.intents.retrieval_intents)
    exact, prefixes = python_responses()

    def named_in_python(response: str) -> bool:
        return response in exact or any(response.startswith(p) for p in prefixes)

    problems: list[str] = []
    for warning in caught:
        text = str(warning.message)
        if not issubclass(warning.category, UserWarning):
            continue
        if text.startswith(ALWAYS_PRINTED):
            continue
        unused = UNUSED_UTTERANCE.search(text)
        if unused and named_in_python(unused.group(1)):
            continue
        if EXTERNAL_INTENT.search(text):
            continue
        duplicate = RETRIEVAL_DUPLICATE.search(text.splitlines()[0])
        if duplicate and {i.strip() for i in duplicate.group(1).split(",")} <= retrieval_intents:
            continue
        problems.append(text.splitlines()[0])
    for response in sorted(exact - domain_responses):
        problems.append(f"actions/names.py names the response '{response}', which the domain does not define")
    for prefix in sorted(prefixes):
        if not any(r.startswith(prefix) for r in domain_responses):
            problems.append(f"no domain response starts with the prefix '{prefix}' from actions/names.py")
    if not ok:
        problems.append("Rasa's validator reported errors (see above)")
    for problem in problems:
        print(f"  - {problem}")
    if problems:
        print(f"validation failed: {len(problems)} problem(s)")
        return 1
    print("validation passed: domain, NLU data, stories and rules are consistent (no warnings)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
