"""Review's HTTP API object: every route module of the service registers on it."""

from gongyi.http.api import Api

api = Api("review", "gongyi review API", "Screening, experts, scoring, ranking and the staff search API.")
