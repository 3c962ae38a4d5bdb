"""Ways of handing a built email to the world: SMTP, or the console in development."""

import smtplib
import sys


class SMTPBackend:
    def __init__(self, config):
        self.host = config["MAIL_SERVER"]
        self.port = config["MAIL_PORT"]
        self.username = config.get("MAIL_USERNAME")
        self.password = config.get("MAIL_PASSWORD")
        self.use_tls = config.get("MAIL_USE_TLS")
        self.use_ssl = config.get("MAIL_USE_SSL")
        self.timeout = config.get("MAIL_TIMEOUT", 30)
        self._conn = None

    def __enter__(self):
        cls = smtplib.SMTP_SSL if self.use_ssl else smtplib.SMTP
        self._conn = cls(self.host, self.port, timeout=self.timeout)
        if self.use_tls:
            self._conn.starttls()
        if self.username:
            self._conn.login(self.username, self.password or "")
        return self

    def send(self, message):
        self._conn.send_message(message)

    def __exit__(self, *exc):
        try:
            self._conn.quit()
        except smtplib.SMTPException:
            self._conn.close()
        except OSError:
            pass
        self._conn = None


class ConsoleBackend:
    """Prints each email, for development without a mail server."""

    def __init__(self, config, stream=None):
        self.stream = stream or sys.stdout

    def __enter__(self):
        return self

    def send(self, message):
        text = message.get_body(("plain",))
        body = text.get_content() if text else ""
        attachments = [part.get_filename() for part in message.iter_attachments()]
        print(
            "\n".join(
                [
                    "-" * 72,
                    f"To: {message['To']}",
                    f"Subject: {message['Subject']}",
                    f"Message-ID: {message['Message-ID']}",
                    *(f"Attachment: {name}" for name in attachments),
                    "",
                    body.rstrip(),
                    "-" * 72,
                ]
            ),
            file=self.stream,
            flush=True,
        )

    def __exit__(self, *exc):
        pass


BACKENDS = {"smtp": SMTPBackend, "console": ConsoleBackend}


def backend_for(config):
    return BACKENDS[config["MAIL_BACKEND"]](config)
