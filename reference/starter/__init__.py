"""The problem-5 starter notebook as handed out to students (package data).

`hw1_prob5_starter.ipynb` is deliberately incomplete: its Q1 cell (`weights = `,
`biases = `) does not parse until a student fills it in.
"""
