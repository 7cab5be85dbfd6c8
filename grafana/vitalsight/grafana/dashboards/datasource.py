"""The one datasource every panel, variable and annotation reads."""

from grafana_foundation_sdk.models.dashboard import DataSourceRef

from vitalsight.grafana.uids import DATASOURCE_TYPE, DATASOURCE_UID

DATASOURCE = DataSourceRef(type_val=DATASOURCE_TYPE, uid=DATASOURCE_UID)
