FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY collector-processors collector-processors
COPY exporters exporters
COPY grafana grafana
COPY insight-service insight-service
RUN pip install --no-cache-dir .
EXPOSE 4317 4318 8123
VOLUME /data
ENTRYPOINT ["vitalsight"]
CMD ["serve", "--host", "0.0.0.0", "--data-dir", "/data"]
