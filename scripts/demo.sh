#!/usr/bin/env bash
# The main job on a fresh machine: set up, fetch ml-latest-small, compare models on a held-out
# split, train a top-k ranker on everything, and recommend for a new user who loves Disney films.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-main.sh
VENV=${MATINEE_VENV:-.venv}
matinee() { "$VENV/bin/matinee" "$@"; }

matinee data info ml-latest-small
matinee compare --dataset ml-latest-small --split random:0.1 \
    --models baseline,biased-mf,svdpp,item-knn,ials
matinee train item-knn --dataset ml-latest-small --split none --out runs/item-knn
# The Lion King, Aladdin, Beauty and the Beast, The Little Mermaid, Cinderella, Snow White.
matinee recommend runs/item-knn --rated "364:5,588:5,595:5,2081:5,1022:5,594:5" -k 10
