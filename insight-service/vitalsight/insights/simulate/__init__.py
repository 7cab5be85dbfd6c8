"""Labelled RUM traffic from YAML scenarios, sent through the real pipeline (issue 6).

`scenario.py` is the file format, `traffic.py` turns a scenario into the OTLP requests a
fleet of browsers running our SDK would send, `send.py` posts them to `vitalsight serve`.
"""
