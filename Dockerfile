# earful: one image for the Airflow services (api-server, scheduler, dag-processor, triggerer), the one-shot
# migrations and the review web app. Code, DAGs and configuration are built in; data lives in volumes.
FROM python:3.11-slim-bookworm

ENV PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    AIRFLOW_HOME=/opt/airflow HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1

RUN apt-get update && apt-get install -y --no-install-recommends curl tini \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --uid 50000 --gid 0 --home-dir /opt/airflow --create-home earful

# torch first, pinned, from the CPU wheel index: a bare "torch" would pull several GB of CUDA packages.
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu

WORKDIR /opt/earful
# Dependencies before the code, so that a code change does not reinstall them.
COPY pyproject.toml README.md ./
RUN mkdir -p earful && touch earful/__init__.py \
    && pip install '.[airflow]' && pip uninstall -y earful && rm -rf earful build

COPY . .
RUN pip install --no-deps '.[airflow]' \
    && install -d -o 50000 -g 0 /var/lib/earful /opt/airflow/logs \
    && chmod +x deploy/entrypoint.sh

USER 50000
EXPOSE 8080 8765
ENTRYPOINT ["/usr/bin/tini", "--", "/opt/earful/deploy/entrypoint.sh"]
CMD ["earful", "--help"]
