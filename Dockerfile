FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY collector-processors collector-processors
COPY exporters exporters
COPY grafana grafana
COPY insight-service insight-service
COPY alert-rules alert-rules
RUN pip install --no-cache-dir .
# `vitalsight grafana build` / `alerts validate` read the rules from here once installed.
ENV VITALSIGHT_ALERT_RULES_DIR=/app/alert-rules
EXPOSE 4317 4318 8123
VOLUME /data
ENTRYPOINT ["vitalsight"]
CMD ["serve", "--host", "0.0.0.0", "--data-dir", "/data"]
