// The warning before the idle timeout (WCAG 2.2.1, Timing Adjustable).
//
// The layout puts a closed <dialog id="session-warning"> on every page of a
// logged-in user, with the seconds until the session ends and how long before
// that to warn in data attributes: the Content Security Policy allows no
// inline script, so this file reads them. At the warning time the dialog
// opens (modal, so it takes the focus and screen readers announce it) and
// says at what time the session ends; "Ingelogd blijven" extends the session
// without leaving the page, and Escape does the same. When the time has run
// out, the dialog says so and offers the login page. Without script nothing
// opens, and the server's timeout works as before.
(function () {
	"use strict";
	var dialog = document.getElementById("session-warning");
	if (!dialog || typeof dialog.showModal !== "function") {
		return;
	}
	var warnBefore = Number(dialog.getAttribute("data-warn-before")) * 1000;
	var form = dialog.querySelector("form[data-session-extend]");
	var timers = [];

	function pad(n) {
		return (n < 10 ? "0" : "") + n;
	}

	function show(state) {
		var parts = dialog.querySelectorAll("[data-state]");
		for (var i = 0; i < parts.length; i++) {
			parts[i].hidden = parts[i].getAttribute("data-state") !== state;
		}
		var title = dialog.querySelector("[data-state='" + state + "'] h2");
		if (title) {
			if (!title.id) {
				title.id = "session-" + state + "-title";
			}
			dialog.setAttribute("aria-labelledby", title.id);
		}
		if (!dialog.open) {
			dialog.showModal();
		}
	}

	function schedule(seconds) {
		timers.forEach(clearTimeout);
		var end = new Date(Date.now() + seconds * 1000);
		timers = [
			setTimeout(function () {
				dialog.querySelector("[data-session-end]").textContent = pad(end.getHours()) + ":" + pad(end.getMinutes());
				show("warning");
			}, Math.max(0, seconds * 1000 - warnBefore)),
			setTimeout(ended, seconds * 1000)
		];
	}

	function ended() {
		timers.forEach(clearTimeout);
		show("ended");
		var link = document.getElementById("session-login");
		if (link) {
			link.focus();
		}
	}

	function extend() {
		if (!form) {
			return;
		}
		fetch(form.action, {
			method: "POST",
			headers: { "Accept": "application/json" },
			body: new URLSearchParams(new FormData(form)),
			credentials: "same-origin",
			redirect: "error"
		}).then(function (resp) {
			if (!resp.ok) {
				throw new Error("status " + resp.status);
			}
			return resp.json();
		}).then(function (clock) {
			dialog.close();
			schedule(clock.expiresIn);
		}).catch(ended);
	}

	if (form) {
		form.addEventListener("submit", function (e) {
			e.preventDefault();
			extend();
		});
	}
	// Escape closes the warning: the user is there, so keep the session.
	// After the end it just closes, so that unsaved text can be copied.
	dialog.addEventListener("cancel", function (e) {
		if (!dialog.querySelector("[data-state='ended']").hidden) {
			return;
		}
		e.preventDefault();
		extend();
	});

	schedule(Number(dialog.getAttribute("data-expires-in")));
})();
