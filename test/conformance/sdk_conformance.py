"""Checks the MWAA and DMS emulators, and the requests airkick sends them, against the vendors' own SDKs.

Run by test/integration/conformance.test.ts with the interpreter of the venv built from sdk.lock:

    python sdk_conformance.py CONFIG.json RESULTS.json

CONFIG names both emulators, their credentials, a control endpoint of the test (to queue faults and
read request counts) and the requests airkick sent, as recorded by the emulators. Every check ends up
in RESULTS.json as {"id", "ok", "detail", "observed"}; a table goes to stdout. Exit status 1 when any
check fails.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import re
import sys
import time
import traceback
import urllib.request
from typing import Any, Callable
from unittest import mock
from urllib.parse import parse_qsl, urlsplit

import boto3
import botocore
import botocore.auth
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config as BotoConfig
from botocore.credentials import Credentials
from botocore.exceptions import ClientError, ParamValidationError

import alibabacloud_dms20250414
from alibabacloud_dms20250414.client import Client as DmsClient
from alibabacloud_dms20250414 import models as dms_models
from alibabacloud_tea_openapi import exceptions as tea_exceptions
from alibabacloud_tea_openapi.utils import Utils as TeaUtils
from alibabacloud_tea_openapi.utils_models import Config as TeaConfig
from darabonba.policy.retry import RetryOptions
from darabonba.request import DaraRequest


class CheckFailed(AssertionError):
    pass


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


class Run:
    def __init__(self, config: dict[str, Any]):
        self.config = config
        self.results: list[dict[str, Any]] = []

    def check(self, check_id: str, fn: Callable[[], dict[str, Any]]) -> None:
        started = time.perf_counter()
        try:
            self.control('POST', '/reset')
            observed = fn() or {}
            result = {"id": check_id, "ok": True, "detail": "", "observed": observed}
        except CheckFailed as failure:
            result = {"id": check_id, "ok": False, "detail": str(failure), "observed": {}}
        except Exception as error:  # an unexpected exception is a failed check, not a crashed run
            detail = f"{type(error).__name__}: {error}\n{traceback.format_exc(limit=3)}"
            result = {"id": check_id, "ok": False, "detail": detail, "observed": {}}
        result["ms"] = round((time.perf_counter() - started) * 1000)
        self.results.append(result)

    def control(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.config["control"] + path, data=data, method=method, headers={"content-type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read()
            return json.loads(text) if text else None

    def fail_mwaa(self, operation: str, fault: dict[str, Any]) -> None:
        self.control('POST', '/fail', {"target": "mwaa", "operation": operation, "fault": fault})

    def fail_dms(self, fault: dict[str, Any]) -> None:
        self.control('POST', '/fail', {"target": "dms", "fault": fault})

    def counts(self, target: str) -> dict[str, int]:
        return self.control('GET', '/counts')[target]


# ---------------------------------------------------------------------------------------------
# Amazon MWAA through boto3


def mwaa_client(config: dict[str, Any], **boto_config: Any):
    mwaa = config["mwaa"]
    return boto3.client(
        "mwaa",
        region_name=mwaa["region"],
        endpoint_url=mwaa["endpoint"],
        aws_access_key_id=mwaa["accessKeyId"],
        aws_secret_access_key=mwaa["secretAccessKey"],
        # The emulator is one host; the env. prefix of the token operations would not resolve.
        config=BotoConfig(inject_host_prefix=False, **boto_config),
    )


def raised(call: Callable[[], Any]) -> BaseException:
    try:
        call()
    except BaseException as error:  # noqa: BLE001 - the point is to capture what the SDK raises
        return error
    raise CheckFailed("the call succeeded; an error was expected")


def client_error(error: BaseException) -> ClientError:
    expect(isinstance(error, ClientError), f"expected a ClientError, got {type(error).__name__}: {error}")
    return error  # type: ignore[return-value]


def describe(error: ClientError) -> dict[str, Any]:
    meta = error.response.get("ResponseMetadata", {})
    return {
        "class": type(error).__name__,
        "code": error.response["Error"]["Code"],
        "message": error.response["Error"].get("Message", ""),
        "httpStatus": meta.get("HTTPStatusCode"),
        "retryAttempts": meta.get("RetryAttempts"),
    }


def mwaa_checks(run: Run) -> None:
    cfg = run.config
    mwaa = cfg["mwaa"]
    name = mwaa["name"]
    client = mwaa_client(cfg)
    modeled = client.exceptions

    def create_cli_token():
        out = client.create_cli_token(Name=name)
        expect(out["WebServerHostname"] == mwaa["webServerHostname"], f"WebServerHostname {out['WebServerHostname']}")
        expect(len(out["CliToken"]) >= 20, "CliToken missing")
        return {"keys": sorted(k for k in out if k != "ResponseMetadata")}

    def create_web_login_token():
        out = client.create_web_login_token(Name=name)
        expect(out["WebServerHostname"] == mwaa["webServerHostname"], "WebServerHostname")
        for key in ("WebToken", "IamIdentity", "AirflowIdentity"):
            expect(bool(out.get(key)), f"{key} missing")
        return {"keys": sorted(k for k in out if k != "ResponseMetadata")}

    def invoke_get():
        out = client.invoke_rest_api(Name=name, Method="GET", Path="/dags", QueryParameters={"limit": 2})
        expect(out["RestApiStatusCode"] == 200, f"RestApiStatusCode {out['RestApiStatusCode']}")
        dags = out["RestApiResponse"]["dags"]
        expect(isinstance(dags, list) and len(dags) == 2, f"dags {dags!r}")
        return {"RestApiStatusCode": 200, "dags": [d["dag_id"] for d in dags]}

    def invoke_post():
        run_id = f"conformance-{int(time.time() * 1000)}"
        out = client.invoke_rest_api(
            Name=name,
            Method="POST",
            Path="/dags/airkick_conf/dagRuns",
            Body={"dag_run_id": run_id, "conf": {"from": "boto3", "quote": "it's"}},
        )
        expect(out["RestApiStatusCode"] == 200, f"RestApiStatusCode {out['RestApiStatusCode']}")
        answer = out["RestApiResponse"]
        expect(answer["dag_run_id"] == run_id, f"dag_run_id {answer.get('dag_run_id')}")
        expect(answer["conf"] == {"from": "boto3", "quote": "it's"}, f"conf {answer.get('conf')}")
        return {"RestApiStatusCode": 200, "dag_run_id": run_id}

    def error_type_in(type_in: str):
        def check():
            run.fail_mwaa("restapi", {"status": 404, "type": "ResourceNotFoundException", "typeIn": type_in})
            error = client_error(raised(lambda: client.invoke_rest_api(Name=name, Method="GET", Path="/dags")))
            expect(
                isinstance(error, modeled.ResourceNotFoundException),
                f"{type_in}: {type(error).__name__} code={error.response['Error']['Code']!r}",
            )
            return describe(error)

        return check

    def resource_not_found():
        error = client_error(raised(lambda: client.create_cli_token(Name="no-such-environment")))
        expect(isinstance(error, modeled.ResourceNotFoundException), f"{type(error).__name__}")
        expect(run.counts("mwaa").get("clitoken") == 1, "ResourceNotFoundException must not be retried")
        return describe(error)

    def access_denied_airflow_role():
        message = cfg["airflowRoleDeniedMessage"]
        run.fail_mwaa("restapi", {"status": 403, "type": "AccessDeniedException", "message": message})
        error = client_error(raised(lambda: client.invoke_rest_api(Name=name, Method="GET", Path="/dags")))
        expect(isinstance(error, modeled.AccessDeniedException), f"{type(error).__name__}")
        # The model's member is `Message` (capital M); botocore reads message or Message.
        expect(error.response["Error"]["Message"] == message, f"message {error.response['Error']['Message']!r}")
        expect(error.response.get("Message") == message, "modeled member Message not parsed")
        expect("Airflow role" in message, "the message must name the Airflow role")
        return describe(error)

    def access_denied_plain():
        run.fail_mwaa("webtoken", {"status": 403, "type": "AccessDeniedException", "message": "Access denied."})
        error = client_error(raised(lambda: client.create_web_login_token(Name=name)))
        expect(isinstance(error, modeled.AccessDeniedException), f"{type(error).__name__}")
        expect("Airflow role" not in error.response["Error"]["Message"], "plain AccessDenied")
        return describe(error)

    def validation_path_65():
        path = "/dags/" + "d" * 59
        expect(len(path) == 65, "65 characters")
        error = client_error(raised(lambda: client.invoke_rest_api(Name=name, Method="GET", Path=path)))
        expect(isinstance(error, modeled.ValidationException), f"{type(error).__name__}")
        message = error.response["Error"]["Message"]
        expect("at 'path'" in message and "less than or equal to 64" in message, f"message {message!r}")
        expect(run.counts("mwaa").get("restapi") == 1, "botocore checks no max length: the server must refuse it")
        return describe(error)

    def validation_path_empty():
        error = raised(lambda: client.invoke_rest_api(Name=name, Method="GET", Path=""))
        expect(isinstance(error, ParamValidationError), f"{type(error).__name__}: {error}")
        expect(run.counts("mwaa").get("restapi") is None, "an empty Path never leaves botocore")
        return {"class": type(error).__name__, "message": str(error).splitlines()[-1]}

    def validation_method():
        error = client_error(raised(lambda: client.invoke_rest_api(Name=name, Method="TRACE", Path="/dags")))
        expect(isinstance(error, modeled.ValidationException), f"{type(error).__name__}")
        expect("enum value set" in error.response["Error"]["Message"], error.response["Error"]["Message"])
        return describe(error)

    def rest_api_client_404():
        error = client_error(
            raised(lambda: client.invoke_rest_api(Name=name, Method="GET", Path="/dags/no_such_dag"))
        )
        expect(isinstance(error, modeled.RestApiClientException), f"{type(error).__name__}")
        expect(error.response.get("RestApiStatusCode") == 404, f"RestApiStatusCode {error.response.get('RestApiStatusCode')}")
        expect(error.response.get("RestApiResponse", {}).get("status") == 404, "RestApiResponse")
        expect(run.counts("mwaa").get("restapi") == 1, "RestApiClientException must not be retried")
        return {**describe(error), "RestApiStatusCode": error.response["RestApiStatusCode"]}

    def rest_api_server():
        extra = {"RestApiStatusCode": 503, "RestApiResponse": {"title": "Service Unavailable", "status": 503}}
        run.fail_mwaa("restapi", {"status": 400, "type": "RestApiServerException", "extra": extra})
        error = client_error(raised(lambda: client.invoke_rest_api(Name=name, Method="GET", Path="/dags")))
        expect(isinstance(error, modeled.RestApiServerException), f"{type(error).__name__}")
        expect(error.response.get("RestApiStatusCode") == 503, "RestApiStatusCode")
        expect(error.response.get("RestApiResponse") == extra["RestApiResponse"], "RestApiResponse")
        expect(run.counts("mwaa").get("restapi") == 1, "RestApiServerException (HTTP 400) must not be retried")
        return {**describe(error), "RestApiStatusCode": 503}

    def internal_server_retried():
        run.fail_mwaa("restapi", {"status": 500, "type": "InternalServerException", "times": 3})
        error = client_error(raised(lambda: client.invoke_rest_api(Name=name, Method="GET", Path="/dags")))
        expect(isinstance(error, modeled.InternalServerException), f"{type(error).__name__}")
        attempts = run.counts("mwaa").get("restapi")
        expect(attempts == 3, f"standard retry mode makes 3 attempts, saw {attempts}")
        return {**describe(error), "attempts": attempts}

    def internal_server_recovers():
        run.fail_mwaa("restapi", {"status": 500, "type": "InternalServerException", "times": 1})
        out = client.invoke_rest_api(Name=name, Method="GET", Path="/dags", QueryParameters={"limit": 1})
        expect(out["RestApiStatusCode"] == 200, "recovered")
        attempts = run.counts("mwaa").get("restapi")
        expect(attempts == 2, f"attempts {attempts}")
        return {"attempts": attempts, "retryAttempts": out["ResponseMetadata"]["RetryAttempts"]}

    def throttling_retried():
        run.fail_mwaa("restapi", {"status": 429, "type": "ThrottlingException", "times": 3, "retryAfterSeconds": 1})
        error = client_error(raised(lambda: client.invoke_rest_api(Name=name, Method="GET", Path="/dags")))
        expect(error.response["Error"]["Code"] == "ThrottlingException", describe(error)["code"])
        # Not in the MWAA model: no modeled class, a plain ClientError.
        expect(not hasattr(modeled, "ThrottlingException"), "ThrottlingException is not modeled for MWAA")
        attempts = run.counts("mwaa").get("restapi")
        expect(attempts == 3, f"standard retry mode retries throttling: 3 attempts, saw {attempts}")
        return {**describe(error), "attempts": attempts, "modeled": False}

    def throttling_400_legacy_shape():
        # AWS's JSON services also throttle with HTTP 400 and the type in the body (__type).
        run.fail_mwaa(
            "restapi", {"status": 400, "type": "ThrottlingException", "typeIn": "body-type", "times": 1}
        )
        out = client.invoke_rest_api(Name=name, Method="GET", Path="/dags", QueryParameters={"limit": 1})
        attempts = run.counts("mwaa").get("restapi")
        expect(out["RestApiStatusCode"] == 200 and attempts == 2, f"retried once, attempts {attempts}")
        return {"attempts": attempts}

    def retry_mode():
        return {"retry_mode": client.meta.config.retries or "default", "botocore": botocore.__version__}

    run.check("mwaa.create_cli_token", create_cli_token)
    run.check("mwaa.create_web_login_token", create_web_login_token)
    run.check("mwaa.invoke_rest_api.get", invoke_get)
    run.check("mwaa.invoke_rest_api.post", invoke_post)
    for type_in in ("header", "body-type", "body-type-namespaced", "body-code"):
        run.check(f"mwaa.error_type_in.{type_in}", error_type_in(type_in))
    run.check("mwaa.resource_not_found", resource_not_found)
    run.check("mwaa.access_denied.airflow_role", access_denied_airflow_role)
    run.check("mwaa.access_denied.plain", access_denied_plain)
    run.check("mwaa.validation.path_65", validation_path_65)
    run.check("mwaa.validation.path_empty", validation_path_empty)
    run.check("mwaa.validation.method", validation_method)
    run.check("mwaa.rest_api_client.404", rest_api_client_404)
    run.check("mwaa.rest_api_server", rest_api_server)
    run.check("mwaa.internal_server.retried", internal_server_retried)
    run.check("mwaa.internal_server.recovers", internal_server_recovers)
    run.check("mwaa.throttling.retried", throttling_retried)
    run.check("mwaa.throttling.body_type_400", throttling_400_legacy_shape)
    run.check("mwaa.retry_mode", retry_mode)


# ---------------------------------------------------------------------------------------------
# Alibaba Cloud DMS through alibabacloud_dms20250414


def dms_client(config: dict[str, Any], retry_options: RetryOptions | None = None) -> DmsClient:
    dms = config["dms"]
    options: dict[str, Any] = {} if retry_options is None else {"retry_options": retry_options}
    return DmsClient(
        TeaConfig(
            access_key_id=dms["accessKeyId"],
            access_key_secret=dms["accessKeySecret"],
            endpoint=dms["endpoint"],
            protocol="http",
            region_id=dms["region"],
            read_timeout=10_000,
            **options,
        )
    )


def tea_error(error: BaseException) -> dict[str, Any]:
    return {
        "class": type(error).__name__,
        "code": getattr(error, "code", None),
        "statusCode": getattr(error, "status_code", None),
        "retryAfter": getattr(error, "retry_after", None),
    }


def dms_checks(run: Run) -> None:
    cfg = run.config
    dms = cfg["dms"]
    client = dms_client(cfg)
    request = lambda airflow_id=dms["airflowId"]: dms_models.CreateAirflowLoginTokenRequest(airflow_id=airflow_id)  # noqa: E731

    def create_token():
        response = client.create_airflow_login_token(request())
        body = response.body
        expect(isinstance(body, dms_models.CreateAirflowLoginTokenResponseBody), type(body).__name__)
        expect(response.status_code == 200, f"status {response.status_code}")
        expect(body.success is True and body.code == "200", f"success={body.success} code={body.code}")
        expect(body.data.host == dms["host"], f"host {body.data.host}")
        expect(len(body.data.token or "") >= 20, "token missing")
        return {"success": body.success, "code": body.code, "httpStatusCode": body.http_status_code}

    def unknown_id():
        error = raised(lambda: client.create_airflow_login_token(request("af-doesnotexist")))
        expect(isinstance(error, tea_exceptions.ClientException), f"{type(error).__name__}: {error}")
        expect(error.status_code == 404 and error.code == "InvalidAirflowId.NotFound", str(tea_error(error)))
        expect(error.data.get("Success") is False, "data carries the body")
        return tea_error(error)

    def throttling():
        run.fail_dms({"status": 400, "code": "Throttling.User"})
        error = raised(lambda: client.create_airflow_login_token(request()))
        expect(type(error) is tea_exceptions.ClientException, f"{type(error).__name__}")
        expect(error.code == "Throttling.User" and error.status_code == 400, str(tea_error(error)))
        expect("user flow control" in error.message, error.message)
        expect(run.counts("dms").get("token") == 1, "no retry without retry options")
        return tea_error(error)

    def throttling_retry_after():
        run.fail_dms({"status": 400, "code": "Throttling.User", "retryAfterSeconds": 1})
        error = raised(lambda: client.create_airflow_login_token(request()))
        expect(isinstance(error, tea_exceptions.ThrottlingException), f"{type(error).__name__}")
        expect(error.retry_after == 1000, f"retry_after {error.retry_after} (x-acs-retry-after, milliseconds)")
        expect(run.counts("dms").get("token") == 1, "no retry without retry options")
        return tea_error(error)

    def throttling_retry_policy():
        run.fail_dms({"status": 400, "code": "Throttling.User", "retryAfterSeconds": 1})
        retrying = dms_client(
            cfg,
            RetryOptions(
                {
                    "retryable": True,
                    "retryCondition": [
                        {"maxAttempts": 3, "exception": ["ThrottlingException"], "errorCode": ["Throttling.User"]}
                    ],
                }
            ),
        )
        started = time.perf_counter()
        response = retrying.create_airflow_login_token(request())
        waited = time.perf_counter() - started
        attempts = run.counts("dms").get("token")
        expect(response.body.success is True and attempts == 2, f"attempts {attempts}")
        expect(waited >= 0.95, f"waited {waited:.2f} s, the SDK sleeps retry_after milliseconds")
        return {"attempts": attempts, "waitedSeconds": round(waited, 2)}

    def success_false():
        run.fail_dms({"status": 403, "code": "NoPermission", "message": "no permission", "successFalse": True})
        response = client.create_airflow_login_token(request())
        body = response.body
        expect(response.status_code == 200, "HTTP 200")
        expect(body.success is False and body.data is None, f"success={body.success} data={body.data}")
        expect(body.code == "NoPermission" and body.error_code == "NoPermission", f"code {body.code}")
        expect(body.http_status_code == 403, f"HttpStatusCode {body.http_status_code}")
        return {"raised": False, "success": body.success, "code": body.code, "httpStatusCode": body.http_status_code}

    def server_error():
        run.fail_dms({"status": 500, "code": "InternalError"})
        error = raised(lambda: client.create_airflow_login_token(request()))
        expect(isinstance(error, tea_exceptions.ServerException), f"{type(error).__name__}")
        expect(error.status_code == 500 and error.code == "InternalError", str(tea_error(error)))
        expect(run.counts("dms").get("token") == 1, "no retry without retry options")
        return tea_error(error)

    run.check("dms.create_airflow_login_token", create_token)
    run.check("dms.unknown_airflow_id", unknown_id)
    run.check("dms.throttling", throttling)
    run.check("dms.throttling.retry_after", throttling_retry_after)
    run.check("dms.throttling.retry_policy", throttling_retry_policy)
    run.check("dms.success_false", success_false)
    run.check("dms.server_error", server_error)


# ---------------------------------------------------------------------------------------------
# Signatures of airkick's own requests, recomputed with the SDKs' signers

SIGV4 = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, "
    r"SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$"
)
ACS3 = re.compile(r"^ACS3-HMAC-SHA256 Credential=([^,]+),SignedHeaders=([a-z0-9;-]+),Signature=([0-9a-f]{64})$")


def botocore_authorization(record: dict[str, Any], endpoint: str, mwaa: dict[str, Any], body: bytes) -> str:
    headers = record["headers"]
    match = SIGV4.match(headers["authorization"])
    expect(match is not None, f"not a SigV4 Authorization header: {headers['authorization'][:40]}")
    signed = match.group(5).split(";")
    request = AWSRequest(
        method=record["method"],
        url=endpoint + record["url"],
        data=body,
        headers={name: headers[name] for name in signed},
    )
    when = datetime.datetime.strptime(headers["x-amz-date"], "%Y%m%dT%H%M%SZ")
    credentials = Credentials(mwaa["accessKeyId"], mwaa["secretAccessKey"])
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=when):
        SigV4Auth(credentials, "airflow", mwaa["region"]).add_auth(request)
    return request.headers["Authorization"]


def tea_authorization(record: dict[str, Any], dms: dict[str, Any], body: bytes) -> str:
    headers = record["headers"]
    match = ACS3.match(headers["authorization"])
    expect(match is not None, f"not an ACS3 Authorization header: {headers['authorization'][:40]}")
    expect(match.group(1) == dms["accessKeyId"], "access key id")
    parts = urlsplit(record["url"])
    request = DaraRequest()
    request.method = record["method"]
    request.pathname = parts.path
    request.query = dict(parse_qsl(parts.query, keep_blank_values=True))
    request.headers = {name: headers[name] for name in match.group(2).split(";")}
    return TeaUtils.get_authorization(
        request, "ACS3-HMAC-SHA256", hashlib.sha256(body).hexdigest(), dms["accessKeyId"], dms["accessKeySecret"]
    )


def signature_checks(run: Run) -> None:
    cfg = run.config
    mwaa, dms = cfg["mwaa"], cfg["dms"]
    recorded = cfg["recorded"]

    def sigv4(route: str):
        def check():
            records = [r for r in recorded["mwaa"] if r["route"] == route]
            expect(len(records) > 0, f"airkick sent no {route} request")
            signed_headers = set()
            for record in records:
                body = base64.b64decode(record["body"])
                declared = record["headers"].get("x-amz-content-sha256")
                expect(
                    declared in (None, hashlib.sha256(body).hexdigest()),
                    "x-amz-content-sha256 does not match the body",
                )
                theirs = record["headers"]["authorization"]
                ours = botocore_authorization(record, mwaa["endpoint"], mwaa, body)
                expect(ours == theirs, f"botocore computed\n  {ours}\nairkick sent\n  {theirs}")
                signed_headers.add(SIGV4.match(theirs).group(5))
            return {"requests": len(records), "signedHeaders": sorted(signed_headers)}

        return check

    def acs3():
        records = [r for r in recorded["dms"] if r["route"] == "token"]
        expect(len(records) > 0, "airkick sent no CreateAirflowLoginToken request")
        signed_headers = set()
        for record in records:
            body = base64.b64decode(record["body"])
            expect(
                record["headers"].get("x-acs-content-sha256") == hashlib.sha256(body).hexdigest(),
                "x-acs-content-sha256 does not match the body",
            )
            theirs = record["headers"]["authorization"]
            ours = tea_authorization(record, dms, body)
            expect(ours == theirs, f"the Tea signer computed\n  {ours}\nairkick sent\n  {theirs}")
            signed_headers.add(ACS3.match(theirs).group(2))
        return {"requests": len(records), "signedHeaders": sorted(signed_headers)}

    def control_sigv4():
        # The comparison can fail: another secret gives another signature.
        record = next(r for r in recorded["mwaa"] if r["route"] == "restapi")
        other = {**mwaa, "secretAccessKey": mwaa["secretAccessKey"] + "x"}
        ours = botocore_authorization(record, mwaa["endpoint"], other, base64.b64decode(record["body"]))
        expect(ours != record["headers"]["authorization"], "a wrong secret gave the same signature")
        return {"detected": True}

    def control_acs3():
        record = recorded["dms"][0]
        other = {**dms, "accessKeySecret": dms["accessKeySecret"] + "x"}
        ours = tea_authorization(record, other, base64.b64decode(record["body"]))
        expect(ours != record["headers"]["authorization"], "a wrong secret gave the same signature")
        return {"detected": True}

    run.check("signature.mwaa.invoke_rest_api", sigv4("restapi"))
    run.check("signature.mwaa.create_cli_token", sigv4("clitoken"))
    run.check("signature.mwaa.create_web_login_token", sigv4("webtoken"))
    run.check("signature.dms.create_airflow_login_token", acs3)
    run.check("signature.control.sigv4_detects_wrong_secret", control_sigv4)
    run.check("signature.control.acs3_detects_wrong_secret", control_acs3)


def print_table(results: list[dict[str, Any]]) -> None:
    width = max(len(r["id"]) for r in results)
    print(f"{'check'.ljust(width)}  result  ms     observed / detail")
    for r in results:
        note = r["detail"].splitlines()[0] if not r["ok"] else json.dumps(r["observed"], sort_keys=True)
        print(f"{r['id'].ljust(width)}  {'ok  ' if r['ok'] else 'FAIL'}    {str(r['ms']).rjust(5)}  {note[:160]}")
    failed = sum(1 for r in results if not r["ok"])
    print(f"{len(results) - failed} passed, {failed} failed")


def main() -> int:
    config_path, results_path = sys.argv[1], sys.argv[2]
    with open(config_path, encoding="utf-8") as f:
        config = json.load(f)
    run = Run(config)
    # Signatures first: they need only the recorded requests.
    signature_checks(run)
    mwaa_checks(run)
    dms_checks(run)
    with open(results_path, "w", encoding="utf-8") as f:
        json.dump(
            {
                "versions": {
                    "boto3": boto3.__version__,
                    "botocore": botocore.__version__,
                    "alibabacloud_dms20250414": getattr(alibabacloud_dms20250414, "__version__", "4.2.x"),
                },
                "results": run.results,
            },
            f,
            indent=1,
        )
    print_table(run.results)
    return 0 if all(r["ok"] for r in run.results) else 1


if __name__ == "__main__":
    sys.exit(main())
