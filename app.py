"""The mgc demo: `streamlit run app.py`. Pages are thin: they read inputs, call mgc, lay out results."""
import streamlit as st

from pages.cached import import_soon

st.set_page_config(page_title="mgc · music genre classifier", page_icon=":material/music_note:", layout="wide")

navigation = st.navigation([
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/classify.py", title="Classify", icon=":material/graphic_eq:"),
    st.Page("pages/evaluation.py", title="Evaluation", icon=":material/analytics:"),
    st.Page("pages/model_comparison.py", title="Model comparison", icon=":material/compare_arrows:"),
    st.Page("pages/dataset.py", title="Dataset", icon=":material/library_music:"),
])
import_soon("sklearn.metrics")
navigation.run()
