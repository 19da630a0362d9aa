"""What LMSs read from us: Gradescope's results.json, score-upload CSVs for Gradescope and Canvas.

Every function here turns `dlgrade.records` records into an LMS's format;
nothing here grades. What LMSs hand *us* (exports of submissions) is read by
`dlgrade.intake`.
"""
