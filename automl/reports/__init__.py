"""Reports of a study: tidy pandas tables and plotly figures, read-only from its storage.

- :func:`load_study_data` → :class:`StudyData`: an output directory, a journal file, a
  storage URL, an ``optuna.Study`` or a ``StudyResult``; works on running studies;
- tables: :func:`trials_table`, :func:`epochs_table`, :func:`summary_table`
  (:func:`top_trials_table` + :func:`marginals_table`), :func:`importances_table`;
- figures: ``plot_*(data) -> plotly.graph_objects.Figure``, each drawing what its pure
  ``*_data(data)`` step returns; :func:`dashboard_figures` and :func:`summary_cards`
  for the dashboard;
- the dashboard file, live server and comparison (:func:`write_report`,
  :func:`serve_dashboard`, :func:`compare_studies`, ...), imported on first use.

Reports read trials and histories only; they never import the engine.
"""

from .._lazy import lazy_getattr

# Everything loads on first use: `automl run` imports the CLI wiring of
# `automl report/dashboard/compare` without paying for pandas and plotly.
_LAZY = {
    "COMPARE_NAME": "._compare",
    "DashboardServer": "._server",
    "REPORT_NAME": "._dashboard",
    "add_subcommands": "._cli",
    "StudyData": "._data",
    "compare_figures": "._compare",
    "compare_studies": "._compare",
    "comparison_table": "._compare",
    "contour_data": "._figures",
    "dashboard_figures": "._figures",
    "diagnostics_data": "._figures",
    "epochs_table": "._tables",
    "importances_table": "._tables",
    "intermediate_values_data": "._figures",
    "learning_curves_data": "._figures",
    "load_study_data": "._data",
    "make_server": "._server",
    "marginals_table": "._tables",
    "optimization_history_data": "._figures",
    "parallel_coordinates_data": "._figures",
    "param_importances_data": "._figures",
    "pareto_front_data": "._figures",
    "plot_contour": "._figures",
    "plot_diagnostics": "._figures",
    "plot_intermediate_values": "._figures",
    "plot_learning_curves": "._figures",
    "plot_optimization_history": "._figures",
    "plot_parallel_coordinates": "._figures",
    "plot_param_importances": "._figures",
    "plot_pareto_front": "._figures",
    "plot_slice": "._figures",
    "plot_timeline": "._figures",
    "render_report": "._dashboard",
    "serve_dashboard": "._server",
    "slice_data": "._figures",
    "summary_cards": "._figures",
    "summary_table": "._tables",
    "timeline_data": "._figures",
    "top_trials_table": "._tables",
    "trials_table": "._tables",
    "write_report": "._dashboard",
}

__all__ = list(_LAZY)


__getattr__ = lazy_getattr(__name__, _LAZY)
