"""The mgc demo: `streamlit run app.py`. Pages are thin: they read inputs, call mgc, lay out results.

The pages live in app_pages/, not pages/: with a folder named pages/ beside this file, Streamlit serves
a new server as a legacy pages-folder app until some session has run st.navigation, so a first visitor
arriving on a link such as /classify got that page without this file (no page config, a navigation
listing every Python file of the folder).
"""

import streamlit as st

import mgc
from app_pages.cached import import_soon, show_failure
from app_pages.memory import give_back_freed_memory, give_back_now

st.set_page_config(page_title="mgc · music genre classifier", page_icon=":material/music_note:", layout="wide")

navigation = st.navigation(
    [
        st.Page("app_pages/home.py", title="Home", icon=":material/home:", default=True),
        st.Page("app_pages/classify.py", title="Classify", icon=":material/graphic_eq:"),
        st.Page("app_pages/evaluation.py", title="Evaluation", icon=":material/analytics:"),
        st.Page("app_pages/model_comparison.py", title="Model comparison", icon=":material/compare_arrows:"),
        st.Page("app_pages/dataset.py", title="Dataset", icon=":material/library_music:"),
    ]
)
# Projector and phone: captions at the body's contrast (Streamlit draws them at 60 % opacity: #707070, faint on a
# washed-out projector); narrower side margins below 1280 px (the wide layout's 5 rem left 540 px for a page at
# 1024 px, and Evaluation's tabs needed a scroll arrow); on a phone, the sidebar closes once a page is chosen
# (open, it covers 82 % of the screen). The script is installed once per browser tab.
st.html(
    """<style>
[data-testid="stCaptionContainer"] { opacity: 1; color: #3d3d3d; }
@media (max-width: 1279px) {
  [data-testid="stMainBlockContainer"] { padding-left: 1.5rem; padding-right: 1.5rem; }
}
</style>
<script>
if (!window.mgcClosesSidebar) {
  window.mgcClosesSidebar = true;
  // Close it by its collapse button, looking every 250 ms for 10 s: Streamlit redraws the sidebar as the new page
  // starts, and on a busy laptop the button may come late or a click be lost. The button exists only while the
  // sidebar is open and always collapses it, so a second click never reopens it.
  let until = 0;
  let clicked = 0;
  const close = () => {
    if (Date.now() >= until) return;
    const sidebar = document.querySelector('[data-testid="stSidebar"]');
    const open = sidebar && sidebar.getAttribute("data-collapsed") === "false";
    const button = open && sidebar.querySelector('[data-testid="stSidebarCollapseButton"] button');
    if (button && Date.now() - clicked > 1000) {
      button.click();
      clicked = Date.now();
    }
    setTimeout(close, 250);
  };
  const closeSoon = () => {
    if (window.innerWidth >= 768) return;
    const idle = Date.now() >= until;
    until = Date.now() + 10000;
    if (idle) setTimeout(close, 50);
  };
  document.addEventListener("click", (event) => {
    if (event.target.closest('[data-testid="stSidebarNavLink"]')) closeSoon();
    else if (event.target.closest('[data-testid="stExpandSidebarButton"]')) until = 0;  // opened again: leave it
  }, true);
  // This script may start seconds after the page is drawn, even after a page was chosen (measured): a page other
  // than the last one seen, from the one the tab loaded on, means one was chosen.
  let seen = new URL(performance.getEntriesByType("navigation")[0]?.name || location.href).pathname;
  setInterval(() => {
    if (location.pathname !== seen) {
      seen = location.pathname;
      closeSoon();
    }
  }, 250);
}
</script>""",
    unsafe_allow_javascript=True,
)
import_soon("sklearn.metrics")
give_back_freed_memory()
try:
    navigation.run()
except mgc.MgcError as error:  # the page boundary: a message for the visitor, the details in the server's log
    show_failure(error)
finally:
    give_back_now()
