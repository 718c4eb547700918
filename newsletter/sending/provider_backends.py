"""Small subclasses of anymail's backends for the batch calls anymail does not make itself:
Postmark's batch endpoint with each message's own body, and Amazon SES's SendBulkEmail with an
inline template. Used by the newsletter send only (`providers.PROVIDERS`); anything else the
site mails goes through the configured backend unchanged.
"""

from __future__ import annotations

from typing import Any

from anymail.backends.amazon_ses import AmazonSESV2SendBulkEmailPayload
from anymail.backends.amazon_ses import EmailBackend as SESBackend
from anymail.backends.postmark import EmailBackend as PostmarkBackend
from anymail.backends.postmark import PostmarkPayload
from anymail.message import AnymailRecipientStatus


class PostmarkBatchPayload(PostmarkPayload):
    """Postmark's batch endpoint takes a list of whole messages; Postmark applies merge data
    only to its stored templates, so each message's body is filled here from the merge data."""

    def get_api_endpoint(self) -> str:
        if self.merge_data and not ({"TemplateAlias", "TemplateId"} & set(self.data)):
            return "email/batch"
        return str(super().get_api_endpoint())

    def data_for_recipient(self, to: Any) -> dict[str, Any]:
        values = (self.merge_data or {}).get(to.addr_spec, {})
        data: dict[str, Any] = super().data_for_recipient(to)
        data.pop("TemplateModel", None)
        for name in ("HtmlBody", "TextBody"):
            if name in data:
                for key, value in values.items():
                    data[name] = data[name].replace("{{%s}}" % key, str(value))  # noqa: UP031
        return data


class PostmarkBatchBackend(PostmarkBackend):
    def build_message_payload(self, message: Any, defaults: Any) -> PostmarkBatchPayload:
        return PostmarkBatchPayload(message, defaults, self)

    def parse_recipient_status(self, response: Any, payload: Any, message: Any) -> Any:
        """/email/batch answers one result per message, in order. anymail raises for the
        whole call when one message has an error other than an invalid or inactive address,
        though the others were accepted; here that one message alone is "failed" (tried
        again later) and the others keep their verdict, so none is sent twice."""
        if payload.get_api_endpoint() != "email/batch":
            return super().parse_recipient_status(response, payload, message)
        results = self.deserialize_json_response(response, payload, message)
        statuses = {}
        for to, result in zip(payload.to_emails, results, strict=False):
            code = result.get("ErrorCode", 0) if isinstance(result, dict) else -1
            if code == 0:
                status = AnymailRecipientStatus(message_id=result.get("MessageID"), status="sent")
            elif code == 406:
                status = AnymailRecipientStatus(message_id=None, status="rejected")
            elif code == 300:
                status = AnymailRecipientStatus(message_id=None, status="invalid")
            else:
                status = AnymailRecipientStatus(message_id=None, status="failed")
            statuses[to.addr_spec] = status
        for to in payload.to_emails[len(statuses) :]:
            statuses[to.addr_spec] = AnymailRecipientStatus(message_id=None, status="failed")
        return statuses


class SESBulkPayload(AmazonSESV2SendBulkEmailPayload):
    """SES v2 SendBulkEmail (at most 50 destinations) with the message itself as an inline
    template (`TemplateContent`: subject, text, HTML with `{{name}}` merge fields), each
    destination's merge data as its template data and merge headers as its headers. anymail
    uses SendBulkEmail only with a template stored at SES."""

    def init_payload(self) -> None:
        super().init_payload()
        self.content: dict[str, str] = {}

    def set_subject(self, subject: str) -> None:
        self.content["Subject"] = subject

    def set_text_body(self, body: str) -> None:
        if body:
            self.content["Text"] = body

    def set_html_body(self, body: str) -> None:
        if body:
            self.content["Html"] = body

    def finalize_payload(self) -> None:
        super().finalize_payload()
        template = self.params.setdefault("DefaultContent", {}).setdefault("Template", {})
        template["TemplateContent"] = self.content
        template.setdefault("TemplateData", "{}")


class SESBulkBackend(SESBackend):
    def build_message_payload(self, message: Any, defaults: Any) -> Any:
        if getattr(message, "merge_data", None) and not getattr(message, "template_id", None):
            return SESBulkPayload(message, defaults, self)
        return super().build_message_payload(message, defaults)
