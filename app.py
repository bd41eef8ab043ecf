"""hybrid-ir dashboard: the shared frame (page config, navigation) over one page per question in ``pages/``.

Run with ``python scripts/dashboard.py`` (or ``streamlit run app.py``). Runs are read from ``$HYBRID_IR_RUNS``
(default ``cache/runs``).
"""

from __future__ import annotations

import streamlit as st

st.set_page_config(page_title="hybrid-ir", page_icon=":material/translate:", layout="wide")
st.set_option("client.showErrorDetails", "none")  # no traceback ever reaches the browser

# URL paths default to the file stems (/compare, /language_pairs, ...), which deep links rely on (pages/_ui.py).
PAGES = [
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/compare.py", title="Compare runs", icon=":material/leaderboard:"),
    st.Page("pages/language_pairs.py", title="Language pairs", icon=":material/grid_on:"),
    st.Page("pages/bias.py", title="Language bias", icon=":material/balance:"),
    st.Page("pages/embeddings.py", title="Embedding space", icon=":material/scatter_plot:"),
    st.Page("pages/custom_queries.py", title="Custom queries", icon=":material/upload_file:"),
    st.Page("pages/ablations.py", title="Ablations", icon=":material/tune:"),
    st.Page("pages/robustness.py", title="Robustness", icon=":material/blur_on:"),
    st.Page("pages/jobs.py", title="Jobs", icon=":material/terminal:"),
]

page = st.navigation(PAGES)
st.sidebar.caption("hybrid-ir · hybrid batch training for multilingual retrieval (arXiv 2408.10536)")
page.run()
