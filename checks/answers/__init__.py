"""The structured theory-answers file `answers.toml`.

* `questions`: what each edition's file holds (sections, keys, vocabularies);
* `language`: the safe expression language (whitelisted AST, never `eval`);
* `evaluate`: numpy and sympy evaluators for parsed expressions;
* `judge`: numeric comparison at seeded random points, symbolic fallback;
* `loading`: reading and validating the file;
* `template`: the commented template students fill in.

See `docs/answers.md` for the student-facing description.
"""

from checks.answers.errors import AnswerError, AnswersError
from checks.answers.language import Expression, Vocabulary, parse_expression
from checks.answers.loading import Answers, AnswersSource, Section, load_answers

__all__ = [
    "AnswerError",
    "Answers",
    "AnswersError",
    "AnswersSource",
    "Expression",
    "Section",
    "Vocabulary",
    "load_answers",
    "parse_expression",
]
