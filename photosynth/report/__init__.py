"""How the study's results become the book: run a profile's notebooks (:mod:`.pipeline`), check its inputs first
(:mod:`.preflight`), present tables (:mod:`.tables`, :mod:`.results`), draw figures (:mod:`.figures`,
:mod:`.gallery`, :mod:`.diagram`), compute the sentences of the Results and Discussion pages (:mod:`.findings`),
check the built pages in a browser (:mod:`.bookcheck`) and print the PDF (:mod:`.pdf`).

The top of the library: it reads what :mod:`photosynth.study` wrote and never trains or predicts itself.
"""
